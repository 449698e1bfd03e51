// Drives the pages the binaries serve (web/: the media server's dashboard and /publish, the
// stage role's viewer page) in Debian Chromium through playwright-core, for
// tests/interop/test_pages.py. Everything a person would do is done through the page itself
// (typing, clicking, reading what the page shows); nothing is signalled from Node.
//
// Commands (each prints JSON lines on stdout; exit code 0 on success; screenshots go to
// <outdir>/<name>.png whatever happens):
//   node pages.mjs wrong-token <media-url> <token> <outdir>
//       /publish with a wrong token: the page must show the error.
//   node pages.mjs publish <media-url> <token> <outdir> [whip-url]
//       /publish with the fake camera (to <media-url>/whip unless a WHIP URL is given;
//       IVS_PAGES_SOURCE=pattern publishes the page's generated test pattern instead); prints {"event":"connected",...} once frames flow, then
//       keeps publishing until stdin closes or SIGTERM, clicks Stop and prints {"event":"stopped"}.
//   node pages.mjs stages <stage-url> <count> <outdir>
//       the stage page until <count> tiles show framesDecoded rising.
//   node pages.mjs create-delete <media-url> <stage-url> <admin-token> <outdir>
//       dashboard "Create stage" -> a new tile plays on the stage page -> "Delete" -> it goes.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium } from './chromium.mjs';

const print = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);

async function screenshot(page, outdir, name) {
  await mkdir(outdir, { recursive: true });
  await page.screenshot({ path: path.join(outdir, `${name}.png`), fullPage: true }).catch(() => {});
}

// Polls `probe` (async, returns a value or null) until it returns non-null or `ms` pass.
async function waitFor(probe, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function openPublish(browser, mediaUrl, token, whipUrl = '') {
  const page = browser.page;
  await page.goto(new URL('/publish', mediaUrl).toString());
  if (whipUrl) await page.fill('#whip-url', whipUrl);
  await page.fill('#token', token);
  await page.selectOption('#source', process.env.IVS_PAGES_SOURCE ?? 'camera');
  await page.selectOption('#size', '640x360');
  await page.click('#start');
  return page;
}

const publishView = (page) => page.evaluate(() => ({
  state: document.body.dataset.state ?? '',
  error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
  notice: document.getElementById('notice').hidden ? '' : document.getElementById('notice').textContent,
  framesEncoded: Number(document.getElementById('frames-encoded').textContent) || 0,
  resolution: document.getElementById('resolution').textContent,
  codec: document.getElementById('codec').textContent,
  videoBitrate: document.getElementById('video-bitrate').textContent,
  limitation: document.getElementById('limitation').textContent,
  degradationPreference: window.ivsPublish.session?.pc.getSenders()
    .find((sender) => sender.track?.kind === 'video')?.getParameters().degradationPreference ?? null,
  resource: window.ivsPublish.session?.resource ?? null,
}));

async function wrongToken(mediaUrl, token, outdir) {
  const browser = await launchChromium({ origin: new URL(mediaUrl).origin });
  try {
    const page = await openPublish(browser, mediaUrl, token);
    try {
      const view = await waitFor(async () => {
        const v = await publishView(page);
        return v.error ? v : null;
      }, 20000, 'the page to show an error');
      return { ok: true, ...view };
    } finally {
      await screenshot(page, outdir, 'publish-wrong-token');
    }
  } finally {
    await browser.close();
  }
}

async function publish(mediaUrl, token, outdir, whipUrl) {
  const browser = await launchChromium({ origin: new URL(mediaUrl).origin });
  let page;
  try {
    page = await openPublish(browser, mediaUrl, token, whipUrl);
    const view = await waitFor(async () => {
      const v = await publishView(page);
      if (v.error) throw new Error(`the page shows an error: ${v.error}`);
      return v.state === 'connected' && v.framesEncoded > 30 ? v : null;
    }, 30000, '/publish to connect and encode frames');
    await screenshot(page, outdir, 'publish-connected');
    print({ event: 'connected', ...view });
    await new Promise((resolve) => {
      process.stdin.on('end', resolve);
      process.stdin.on('close', resolve);
      process.stdin.resume();
      process.on('SIGTERM', resolve);
    });
    const before = await publishView(page);
    await page.click('#stop');
    const after = await waitFor(async () => {
      const v = await publishView(page);
      return v.state === 'stopped' && v.notice ? v : null;
    }, 10000, 'Stop to finish');
    await screenshot(page, outdir, 'publish-stopped');
    return { ok: true, event: 'stopped', framesEncoded: before.framesEncoded, notice: after.notice };
  } catch (error) {
    if (page) await screenshot(page, outdir, 'publish-failed');
    throw error;
  } finally {
    await browser.close();
  }
}

const stageTiles = (page) => page.evaluate(() => ({
  playing: Number(document.getElementById('playing-count').textContent),
  tiles: [...document.querySelectorAll('[data-stage-id]')].map((tile) => ({
    id: tile.dataset.stageId,
    framesDecoded: Number(tile.dataset.framesDecoded),
    caption: tile.querySelector('.caption')?.textContent ?? '',
    note: tile.querySelector('.muted')?.textContent ?? '',
  })),
}));

// Waits until `predicate(tiles)` holds for two samples 2 s apart with every selected tile's
// framesDecoded higher in the second: decoding, not a frozen frame.
async function waitForRisingTiles(page, select, ms, what) {
  return waitFor(async () => {
    const first = await stageTiles(page);
    const chosen = select(first.tiles);
    if (!chosen) return null;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const second = await stageTiles(page);
    const rising = chosen.every((tile) => {
      const now = second.tiles.find((t) => t.id === tile.id);
      return now && tile.framesDecoded > 0 && now.framesDecoded > tile.framesDecoded;
    });
    return rising ? { first: chosen, second: second.tiles, playing: second.playing } : null;
  }, ms, what);
}

async function stages(stageUrl, count, outdir) {
  const browser = await launchChromium({ origin: new URL(stageUrl).origin });
  try {
    const page = browser.page;
    await page.goto(stageUrl);
    try {
      const result = await waitForRisingTiles(page,
        (tiles) => (tiles.length >= count ? tiles : null), 60000,
        `${count} stage videos with framesDecoded rising`);
      return { ok: true, ...result };
    } finally {
      await screenshot(page, outdir, 'stage-page');
    }
  } finally {
    await browser.close();
  }
}

async function createDelete(mediaUrl, stageUrl, adminToken, outdir) {
  const browser = await launchChromium({ origin: new URL(mediaUrl).origin });
  const dashboard = browser.page;
  const viewer = await browser.context.newPage();
  const result = { ok: false };
  try {
    await dashboard.goto(new URL('/', mediaUrl).toString());
    await viewer.goto(stageUrl);
    const before = await waitForRisingTiles(viewer, (tiles) => (tiles.length >= 3 ? tiles : null),
                                            60000, 'the three stages to play');
    const known = new Set(before.second.map((tile) => tile.id));
    await dashboard.waitForSelector('#create-stage', { state: 'visible', timeout: 20000 });
    await screenshot(dashboard, outdir, 'dashboard-before-create');
    await dashboard.fill('#admin-token', adminToken);
    await dashboard.fill('#stage-name', 'from-dashboard');
    await dashboard.click('#create-stage');
    const message = await waitFor(async () => {
      const text = await dashboard.textContent('#admin-message');
      if (/failed/i.test(text)) throw new Error(`the dashboard says: ${text}`);
      return /Created stage/.test(text) ? text : null;
    }, 20000, 'the dashboard to confirm the new stage');
    result.createMessage = message;
    const added = await waitForRisingTiles(viewer, (tiles) => {
      const fresh = tiles.filter((tile) => !known.has(tile.id));
      return fresh.length === 1 && tiles.length >= 4 ? fresh : null;
    }, 60000, 'a fourth video to appear and play');
    result.newStage = added.first[0];
    await screenshot(viewer, outdir, 'stage-page-four');
    const row = `tr[data-stage-id="${result.newStage.id}"]`;
    await dashboard.waitForSelector(`${row} button.danger`, { state: 'visible', timeout: 20000 });
    await screenshot(dashboard, outdir, 'dashboard-four-stages');
    await dashboard.click(`${row} button.danger`);
    await dashboard.click(`${row} button.danger`);  // the second click confirms
    await waitFor(async () => ((await dashboard.textContent('#admin-message')).includes('Deleted') ? true : null),
                  20000, 'the dashboard to confirm the delete');
    const after = await waitFor(async () => {
      const view = await stageTiles(viewer);
      return view.tiles.some((tile) => tile.id === result.newStage.id) ? null : view;
    }, 30000, 'the deleted stage\'s video to go away');
    await waitFor(async () => ((await dashboard.$(row)) ? null : true), 30000,
                  'the deleted stage\'s row to go away');
    result.tilesAfterDelete = after.tiles.map((tile) => tile.id);
    result.ok = true;
    return result;
  } finally {
    await screenshot(dashboard, outdir, 'dashboard-final');
    await screenshot(viewer, outdir, 'stage-page-final');
    await browser.close();
  }
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command === 'wrong-token') return wrongToken(args[0], args[1], args[2]);
  if (command === 'publish') return publish(args[0], args[1], args[2], args[3]);
  if (command === 'stages') return stages(args[0], Number(args[1]), args[2]);
  if (command === 'create-delete') return createDelete(args[0], args[1], args[2], args[3]);
  throw new Error('usage: node pages.mjs wrong-token|publish|stages|create-delete ...');
}

main(process.argv.slice(2)).then(
  (result) => { print(result); process.exit(0); },
  (error) => { print({ ok: false, error: String(error?.stack ?? error) }); process.exit(1); });
