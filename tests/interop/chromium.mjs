// Drives Debian's /usr/bin/chromium through npm playwright-core as a real, independent WebRTC
// peer for the interop tests: a WHIP publisher (fake camera + microphone, H.264 preferred) and
// a WHEP viewer (receive-only, proof of decode = inbound-rtp framesDecoded rising).
//
// Why it is built this way (see docs/interop.md):
// - launchPersistentContext(fresh temp dir): Playwright refuses --user-data-dir in launch(), and
//   a fresh profile per run keeps runs independent.
// - The flags are exactly those docs/interop.md lists; --allow-loopback-in-peer-connection is what
//   makes 127.0.0.1 host candidates appear, and WebRtcHideLocalIpsWithMdns is disabled so they
//   are IPs, not .local names. Camera/microphone are granted because a page without that
//   permission gathers no host candidates at all.
// - The HTTP part of WHIP/WHEP (POST offer, read answer and Location, DELETE) runs in Node by
//   default, so the pages need no CORS from the server; pass {signalFromPage: true} to make the
//   page fetch() itself and exercise the server's CORS answers too.
// - Run it inside scripts/netns-run: Chromium otherwise gathers the machine's real interfaces.
//
// As a library:  import { launchChromium, whipPublish, whepView } from './chromium.mjs'
// As a script (prints one JSON object on stdout, exit code 0 on success):
//   node chromium.mjs offer                                  an offer from the fake camera
//   node chromium.mjs publish <whip-url> [token] [seconds]   publish, report outbound stats
//   node chromium.mjs view <whep-url> [frames] [seconds]     view until `frames` are decoded
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.IVS_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

// Path of the blank page the harness opens on `origin`. Playwright answers it itself (route
// interception), so no server has to serve it; it exists because about:blank is not a secure
// context (navigator.mediaDevices is undefined there) while http://127.0.0.1 is.
export const HARNESS_PATH = '/__ivs_interop_harness__';

// Launches Chromium with a fresh profile and opens a blank page on `origin` (default
// http://127.0.0.1; pass the WHIP/WHEP server's origin to make in-page fetches same-origin).
// Returns { context, page, close }.
export async function launchChromium({ origin = 'http://127.0.0.1' } = {}) {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'ivs-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_FLAGS,
      permissions: ['camera', 'microphone'],
      timeout: 60_000,
    });
    const page = await openHarnessPage(context, origin, context.pages()[0]);
    const close = async () => {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    };
    return { context, page, close };
  } catch (error) {
    if (context) await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
}

// Opens (or reuses `page` for) the blank harness page on `origin`, with camera and microphone
// granted there. More pages in one browser are cheap: a publisher and a viewer can share it.
export async function openHarnessPage(context, origin = 'http://127.0.0.1', page = undefined) {
  await context.grantPermissions(['camera', 'microphone'], { origin });
  const harnessUrl = new URL(HARNESS_PATH, origin).toString();
  await context.route(harnessUrl, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>ivs</title>' }));
  const target = page ?? (await context.newPage());
  await target.goto(harnessUrl);
  return target;
}

// Page-side code, evaluated in the browser. Everything hangs off window.__ivs so later calls
// (set answer, read stats) find the same RTCPeerConnection.
const PAGE_HELPERS = `
window.__ivs = window.__ivs || {};
window.__ivs.waitForGathering = (pc, timeoutMs) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  const timer = setTimeout(resolve, timeoutMs);
  pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
  });
});
window.__ivs.preferH264 = (transceiver, side = RTCRtpSender) => {
  const codecs = side.getCapabilities('video').codecs;
  const isH264 = (c) => c.mimeType.toLowerCase() === 'video/h264';
  const score = (c) => (!isH264(c) ? 0 :
      (/packetization-mode=1/.test(c.sdpFmtpLine || '') ? 2 : 1) +
      (/profile-level-id=42e01f/.test(c.sdpFmtpLine || '') ? 1 : 0));
  const h264 = codecs.filter(isH264).sort((a, b) => score(b) - score(a));
  if (h264.length === 0) throw new Error('this Chromium has no H.264 ' + side.name);
  transceiver.setCodecPreferences([...h264, ...codecs.filter((c) => !isH264(c))]);
};
window.__ivs.summary = async (pc) => {
  const report = await pc.getStats();
  const out = { connectionState: pc.connectionState, iceConnectionState: pc.iceConnectionState,
                outbound: {}, inbound: {}, selectedPair: null };
  const codecs = {};
  report.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
  report.forEach((s) => {
    if (s.type === 'outbound-rtp') {
      out.outbound[s.kind] = { packetsSent: s.packetsSent, bytesSent: s.bytesSent,
        framesEncoded: s.framesEncoded, codec: codecs[s.codecId] };
    } else if (s.type === 'inbound-rtp') {
      out.inbound[s.kind] = { packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived,
        framesDecoded: s.framesDecoded, packetsLost: s.packetsLost, codec: codecs[s.codecId] };
    } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
      const local = report.get(s.localCandidateId);
      const remote = report.get(s.remoteCandidateId);
      out.selectedPair = { local: local && local.address + ':' + local.port,
                           remote: remote && remote.address + ':' + remote.port };
    }
  });
  return out;
};
`;

async function installHelpers(page) {
  await page.evaluate(PAGE_HELPERS);
}

// Creates the publishing RTCPeerConnection in the page (fake camera + mic, sendonly, H.264
// first) and returns the complete offer SDP (gathering finished, candidates included).
// bundlePolicy 'balanced' (Chromium's default) puts candidates in every m-section;
// 'max-bundle' leaves the second on port 9 with none (testdata/sdp/chromium-offer*.sdp).
export async function createPublisherOffer(page, options = {}) {
  const { gatherTimeoutMs = 5000, bundlePolicy = 'balanced' } = options;
  await installHelpers(page);
  return page.evaluate(async ({ gatherTimeout, bundlePolicy }) => {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 640, height: 360, frameRate: 30 },
    });
    const pc = new RTCPeerConnection({ bundlePolicy });
    window.__ivs.pc = pc;
    window.__ivs.stream = stream;
    for (const track of stream.getTracks()) {
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      if (track.kind === 'video') window.__ivs.preferH264(transceiver);
    }
    await pc.setLocalDescription(await pc.createOffer());
    await window.__ivs.waitForGathering(pc, gatherTimeout);
    return pc.localDescription.sdp;
  }, { gatherTimeout: gatherTimeoutMs, bundlePolicy });
}

// Creates a receive-only RTCPeerConnection (video + audio, H.264 first) and returns its offer. getUserMedia
// is called once and the tracks stopped, because without it Chromium gathers no host
// candidates on a viewer page.
export async function createViewerOffer(page, options = {}) {
  const { gatherTimeoutMs = 5000, bundlePolicy = 'balanced' } = options;
  await installHelpers(page);
  return page.evaluate(async ({ gatherTimeout, bundlePolicy }) => {
    const probe = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    probe.getTracks().forEach((track) => track.stop());
    const pc = new RTCPeerConnection({ bundlePolicy });
    window.__ivs.pc = pc;
    // Our server sends H.264 only; listing it first also makes other answerers pick it.
    window.__ivs.preferH264(pc.addTransceiver('video', { direction: 'recvonly' }), RTCRtpReceiver);
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await window.__ivs.waitForGathering(pc, gatherTimeout);
    return pc.localDescription.sdp;
  }, { gatherTimeout: gatherTimeoutMs, bundlePolicy });
}

// POSTs the offer (RFC 9725 §4.2 / WHEP) and returns { status, location, answer }. Runs in
// Node, or in the page when signalFromPage is set (then the server must answer CORS).
async function postOffer(page, url, offer, token, signalFromPage) {
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (signalFromPage) {
    return page.evaluate(async ({ url, offer, headers }) => {
      const response = await fetch(url, { method: 'POST', headers, body: offer });
      return { status: response.status, location: response.headers.get('Location'),
               answer: await response.text() };
    }, { url, offer, headers });
  }
  const response = await fetch(url, { method: 'POST', headers, body: offer });
  return { status: response.status, location: response.headers.get('Location'),
           answer: await response.text() };
}

async function negotiate(page, url, offer, token, signalFromPage) {
  const { status, location, answer } = await postOffer(page, url, offer, token, signalFromPage);
  if (status !== 201) {
    throw new Error(`POST ${url}: expected 201, got ${status}: ${answer.slice(0, 200)}`);
  }
  await page.evaluate((sdp) => window.__ivs.pc.setRemoteDescription({ type: 'answer', sdp }),
                      answer);
  const resource = location ? new URL(location, url).toString() : null;
  return { offer, answer, location: resource };
}

function sessionControls(page, resource, token) {
  const stats = () => page.evaluate(() => window.__ivs.summary(window.__ivs.pc));
  const waitFor = async (predicate, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await stats();
      if (predicate(current)) return current;
      if (current.connectionState === 'failed' || Date.now() > deadline) {
        throw new Error(`timed out waiting; last stats ${JSON.stringify(current)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const waitForConnected = (timeoutMs = 15000) =>
    waitFor((s) => s.connectionState === 'connected', timeoutMs);
  // DELETE on the resource ends the session (RFC 9725 §4.3).
  const stop = async () => {
    await page.evaluate(() => window.__ivs.pc && window.__ivs.pc.close());
    if (!resource) return null;
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const response = await fetch(resource, { method: 'DELETE', headers }).catch(() => null);
    return response ? response.status : null;
  };
  return { stats, waitFor, waitForConnected, stop };
}

// Publishes the fake camera and microphone to a WHIP endpoint.
// Returns { offer, answer, location, stats(), waitFor(pred, ms), waitForConnected(ms), stop() }.
// options: signalFromPage (default false), bundlePolicy ('balanced' like a default page, or
// 'max-bundle'), gatherTimeoutMs.
export async function whipPublish(page, url, token, options = {}) {
  const { signalFromPage = false } = options;
  const offer = await createPublisherOffer(page, options);
  const negotiated = await negotiate(page, url, offer, token, signalFromPage);
  return { ...negotiated, ...sessionControls(page, negotiated.location, token) };
}

// Plays a WHEP endpoint. Returns the same controls as whipPublish plus framesDecoded(), which
// reads inbound-rtp framesDecoded of the video stream, and waitForFrames(n, ms).
// options: token, and the same as whipPublish.
export async function whepView(page, url, options = {}) {
  const { token, signalFromPage = false } = options;
  const offer = await createViewerOffer(page, options);
  const negotiated = await negotiate(page, url, offer, token, signalFromPage);
  const controls = sessionControls(page, negotiated.location, token);
  const framesDecoded = async () => (await controls.stats()).inbound.video?.framesDecoded ?? 0;
  const waitForFrames = (frames, timeoutMs = 20000) =>
    controls.waitFor((s) => (s.inbound.video?.framesDecoded ?? 0) >= frames, timeoutMs);
  return { ...negotiated, ...controls, framesDecoded, waitForFrames };
}

async function main(argv) {
  const [command, url, ...rest] = argv;
  const browser = await launchChromium(url ? { origin: new URL(url).origin } : {});
  try {
    if (command === 'offer') {
      return { ok: true, offer: await createPublisherOffer(browser.page) };
    }
    if (command === 'publish') {
      const [token, seconds = '5'] = rest;
      const session = await whipPublish(browser.page, url, token);
      await session.waitForConnected();
      await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
      const stats = await session.stats();
      const deleteStatus = await session.stop();
      return { ok: true, location: session.location, stats, deleteStatus };
    }
    if (command === 'view') {
      const [frames = '30', seconds = '20'] = rest;
      const session = await whepView(browser.page, url);
      const stats = await session.waitForFrames(Number(frames), Number(seconds) * 1000);
      const deleteStatus = await session.stop();
      return { ok: true, location: session.location, stats, deleteStatus };
    }
    throw new Error(`usage: node chromium.mjs offer | publish <url> [token] [seconds] | ` +
                    `view <url> [frames] [seconds]`);
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (result) => { process.stdout.write(JSON.stringify(result) + '\n'); },
    (error) => {
      process.stdout.write(JSON.stringify({ ok: false, error: String(error?.message ?? error) }) +
                           '\n');
      process.exitCode = 1;
    });
}
