// Chromium as a simulcast WHIP publisher and as WHEP viewers on the stages, for
// test_chromium_simulcast.py (issue 11: "give each stage the layer IVS accepts").
//
//   node chromium_simulcast.mjs <case> <whip-url> <token> <status-url> <whep-url>...
//
// <case> is "3x720" (fake camera at 1280×720, encodings h / m / l scaled by 1 / 2 / 4; after the
// viewers decode, the page sets active:false on "h" and times how long until every viewer decodes
// 640×360) or "1080+720" (fake camera at 1920×1080, encodings f / h scaled by 1 / 1.5; the
// viewers must decode 1280×720). Prints one JSON object on stdout with every measurement; the
// Python test decides what passes.
//
// The answer is used as the media server wrote it: our transport-cc feedback lets Chromium's
// estimate ramp within a second or two, and its simulcast allocator then turns the 720p layer on
// (before the ingest sent that feedback, the layer stayed paused for ~10 s and this test had to
// add x-google-start-bitrate to the answer). IVS_SIMULCAST_BITRATE_HINT=1 still adds
// x-google-start-bitrate / x-google-min-bitrate, to take the ramp out of a measurement.
import { launchChromium, openHarnessPage } from './chromium.mjs';

const CASES = {
  '3x720': {
    capture: { width: 1280, height: 720, frameRate: 30 },
    encodings: [
      { rid: 'h', scaleResolutionDownBy: 1 },
      { rid: 'm', scaleResolutionDownBy: 2 },
      { rid: 'l', scaleResolutionDownBy: 4 },
    ],
    bitrateKbps: { start: 4000, min: 3500 },
    before: { width: 1280, height: 720 },
    drop: 'h',
    after: { width: 640, height: 360 },
    layerViewer: { width: 320, height: 180 },  // ?layer=l
  },
  '1080+720': {
    capture: { width: 1920, height: 1080, frameRate: 30 },
    encodings: [
      { rid: 'f', scaleResolutionDownBy: 1 },
      { rid: 'h', scaleResolutionDownBy: 1.5 },
    ],
    bitrateKbps: { start: 7000, min: 6000 },
    before: { width: 1280, height: 720 },
  },
};

// Screenshots into IVS_SIMULCAST_OUTDIR when the test sets it.
async function shoot(page, name) {
  const dir = process.env.IVS_SIMULCAST_OUTDIR;
  if (dir) await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true }).catch(() => {});
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, read, predicate, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await read();
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    }
    await sleep(intervalMs);
  }
}

const WAIT_GATHERING = `(pc, ms) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  const timer = setTimeout(resolve, ms);
  pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
  });
})`;

// H.264 first (packetization-mode=1, 42e01f preferred): our ingest takes nothing else.
const PREFER_H264 = `(transceiver, side) => {
  const codecs = side.getCapabilities('video').codecs;
  const isH264 = (c) => c.mimeType.toLowerCase() === 'video/h264';
  const score = (c) => (/packetization-mode=1/.test(c.sdpFmtpLine || '') ? 2 : 0) +
      (/profile-level-id=42e01f/.test(c.sdpFmtpLine || '') ? 1 : 0);
  const h264 = codecs.filter(isH264).sort((a, b) => score(b) - score(a));
  if (h264.length === 0) throw new Error('this Chromium has no H.264');
  transceiver.setCodecPreferences([...h264, ...codecs.filter((c) => !isH264(c))]);
}`;

async function postOffer(url, offer, token) {
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: offer });
  const answer = await response.text();
  if (response.status !== 201) {
    throw new Error(`POST ${url}: ${response.status}: ${answer.slice(0, 300)}`);
  }
  return answer;
}

// Adds the start/min bitrate to every H.264 format of the answer (see the header).
function withBitrates(answer, { start, min }) {
  if (!process.env.IVS_SIMULCAST_BITRATE_HINT) return answer;  // see the header
  const h264 = new Set([...answer.matchAll(/a=rtpmap:(\d+) H264\/90000/g)].map((m) => m[1]));
  return answer.replace(/a=fmtp:(\d+) ([^\r\n]*)/g, (line, pt, params) =>
    h264.has(pt) ? `a=fmtp:${pt} ${params};x-google-start-bitrate=${start};` +
                   `x-google-min-bitrate=${min}` : line);
}

async function publish(page, spec, url, token) {
  const offer = await page.evaluate(async ({ spec, waitGathering, preferH264 }) => {
    const wait = eval(waitGathering);
    const prefer = eval(preferH264);
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: spec.capture });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    window.pub = { pc, stream };
    for (const track of stream.getTracks()) {
      if (track.kind === 'video') {
        const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream],
                                                       sendEncodings: spec.encodings });
        prefer(transceiver, RTCRtpSender);
        window.pub.sender = transceiver.sender;
      } else {
        pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    await wait(pc, 5000);
    return pc.localDescription.sdp;
  }, { spec, waitGathering: WAIT_GATHERING, preferH264: PREFER_H264 });
  const answer = withBitrates(await postOffer(url, offer, token), spec.bitrateKbps);
  await page.evaluate((sdp) => window.pub.pc.setRemoteDescription({ type: 'answer', sdp }),
                      answer);
  return { offerHasSimulcast: /a=simulcast:send/.test(offer), answer };
}

// Per-rid outbound-rtp of the publisher: what the encoder really produces.
const publisherStats = (page) => page.evaluate(async () => {
  const report = await window.pub.pc.getStats();
  const layers = {};
  report.forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      layers[s.rid ?? '-'] = { ssrc: s.ssrc, width: s.frameWidth, height: s.frameHeight,
        framesEncoded: s.framesEncoded, bytesSent: s.bytesSent, active: s.active,
        encoder: s.encoderImplementation, limitation: s.qualityLimitationReason };
    }
  });
  return { state: window.pub.pc.connectionState, layers };
});

async function view(page, url) {
  const offer = await page.evaluate(async ({ waitGathering, preferH264 }) => {
    const wait = eval(waitGathering);
    const prefer = eval(preferH264);
    // Without a getUserMedia grant Chromium gathers no host candidates (chromium.mjs).
    const probe = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    probe.getTracks().forEach((track) => track.stop());
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    window.viewer = { pc };
    prefer(pc.addTransceiver('video', { direction: 'recvonly' }), RTCRtpReceiver);
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await wait(pc, 5000);
    return pc.localDescription.sdp;
  }, { waitGathering: WAIT_GATHERING, preferH264: PREFER_H264 });
  const answer = await postOffer(url, offer, null);
  await page.evaluate((sdp) => window.viewer.pc.setRemoteDescription({ type: 'answer', sdp }),
                      answer);
}

const viewerStats = (page) => page.evaluate(async () => {
  const report = await window.viewer.pc.getStats();
  let video = null;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      video = { width: s.frameWidth ?? 0, height: s.frameHeight ?? 0,
        framesDecoded: s.framesDecoded ?? 0, keyFramesDecoded: s.keyFramesDecoded ?? 0,
        framesDropped: s.framesDropped ?? 0, freezeCount: s.freezeCount ?? 0,
        pliCount: s.pliCount ?? 0, nackCount: s.nackCount ?? 0, packetsLost: s.packetsLost ?? 0,
        decoder: s.decoderImplementation };
    }
  });
  return { state: window.viewer.pc.connectionState, video };
});

async function serverStatus(statusUrl) {
  const status = await (await fetch(statusUrl)).json();
  const publisher = status.publisher ?? {};
  return { chosenLayer: publisher.chosenLayer, layers: publisher.layers ?? [],
           width: publisher.width, height: publisher.height,
           switches: publisher.simulcastSwitches };
}

const allAt = (stats, size) => stats.every((s) => s.video && s.video.framesDecoded > 0 &&
  s.video.width === size.width && s.video.height === size.height);

async function run(name, whipUrl, token, statusUrl, whepUrls) {
  const spec = CASES[name];
  if (!spec) throw new Error(`unknown case ${name}; one of ${Object.keys(CASES)}`);
  const result = { case: name };
  const browser = await launchChromium();
  try {
    const publisher = browser.page;
    result.publish = await publish(publisher, spec, whipUrl, token);
    await waitFor('publisher connected', () => publisherStats(publisher),
                  (s) => s.state === 'connected', 20000);
    const connectedAt = Date.now();
    // Every layer known on the server (resolution from its SPS), and the one the stages should
    // get chosen. Chromium starts its layers as its bandwidth estimate allows and pauses the
    // upper ones while the estimate is low; on an idle machine our transport-cc feedback gets it
    // to the top layer within a second or two, but on a loaded one (CI runs browser tests side
    // by side) the estimate dipped once and Chromium kept only the lowest layer on for 16 s, so
    // the server rightly forwarded that one and the checks below, written for the top layer,
    // timed out. What the ramp takes is test_chromium_ramp's business; here we wait for it.
    const chosenSize = (s) => s.layers.find((l) => l.rid === s.chosenLayer) ?? {};
    result.statusBefore = await waitFor(`the ${spec.before.height}p layer chosen`,
      () => serverStatus(statusUrl),
      (s) => s.layers.length === spec.encodings.length && s.layers.every((l) => l.height) &&
             chosenSize(s).height === spec.before.height, 60000, 200);
    result.rampMs = Date.now() - connectedAt;
    result.publisherBefore = await publisherStats(publisher);
    const viewers = [];
    for (const url of whepUrls) {
      const page = await openHarnessPage(browser.context);
      await view(page, url);
      viewers.push(page);
    }
    const readAll = () => Promise.all(viewers.map(viewerStats));
    // The dashboard shows the layers and marks the chosen one (it polls /api/status each second).
    const dashboard = await browser.context.newPage();
    await dashboard.goto(new URL('/', statusUrl).toString());
    const dashboardRows = () => dashboard.$$eval('#pub-layers tbody tr',
      (rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent)));
    // The dashboard marks the layer the server has chosen; compared with a fresh read of the
    // status each time, since the choice may move while the page loads and polls.
    const dashboardMarksChosen = () => waitFor('the dashboard marking the chosen layer',
      async () => ({
        chosen: (await serverStatus(statusUrl)).chosenLayer,
        marked: await dashboard.$$eval('#pub-layers tr.chosen',
          (rows) => rows.filter((row) => row.offsetParent !== null).map((row) => row.dataset.rid)),
      }),
      (s) => s.marked.length === 1 && s.marked[0] === s.chosen, 15000, 250);
    await dashboardMarksChosen();
    result.dashboardBefore = await dashboardRows();
    await shoot(dashboard, 'dashboard-before');
    result.viewersBefore = await waitFor(`viewers decoding ${spec.before.width}x${spec.before.height}`,
      readAll, (stats) => allAt(stats, spec.before) &&
                          stats.every((s) => s.video.framesDecoded >= 30), 30000);
    // A WHEP viewer of one layer (?layer=<rid>, IVS_SIMULCAST_LAYER_VIEWER=<url>) gets that
    // layer, whatever the stages get; it stays on it through the switch below.
    let layerViewer = null;
    const layerSize = spec.layerViewer;
    if (process.env.IVS_SIMULCAST_LAYER_VIEWER && layerSize) {
      layerViewer = await openHarnessPage(browser.context);
      await view(layerViewer, process.env.IVS_SIMULCAST_LAYER_VIEWER);
      result.layerViewerBefore = await waitFor(`layer viewer at ${layerSize.width}`,
        () => viewerStats(layerViewer), (s) => allAt([s], layerSize) && s.video.framesDecoded >= 30,
        30000);
    }
    if (!spec.drop) return { ok: true, ...result };

    // Stop the top layer the way a page does it, and time the move of every viewer.
    await publisher.evaluate(async (rid) => {
      const parameters = window.pub.sender.getParameters();
      parameters.encodings.find((e) => e.rid === rid).active = false;
      await window.pub.sender.setParameters(parameters);
    }, spec.drop);
    const stopped = Date.now();
    const timings = viewers.map(() => null);
    result.viewersSwitched = await waitFor(`viewers decoding ${spec.after.width}x${spec.after.height}`,
      async () => {
        const stats = await readAll();
        stats.forEach((s, i) => {
          if (timings[i] === null && allAt([s], spec.after)) timings[i] = Date.now() - stopped;
        });
        return stats;
      }, (stats) => allAt(stats, spec.after), 10000, 50);
    result.switchMs = timings;
    result.statusAfter = await serverStatus(statusUrl);
    await dashboardMarksChosen();
    result.dashboardAfter = await dashboardRows();
    await shoot(dashboard, 'dashboard-after');
    // Decoding goes on after the switch (no stall, no decoder reset loop).
    await sleep(2000);
    result.viewersLater = await readAll();
    if (layerViewer) result.layerViewerLater = await viewerStats(layerViewer);
    result.publisherAfter = await publisherStats(publisher);
    return { ok: true, ...result };
  } catch (error) {
    return { ok: false, error: String(error?.message ?? error), ...result };
  } finally {
    await browser.close();
  }
}

const [name, whipUrl, token, statusUrl, ...whepUrls] = process.argv.slice(2);
run(name, whipUrl, token, statusUrl, whepUrls).then(
  (result) => {
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exitCode = result.ok ? 0 : 1;
  },
  (error) => {
    process.stdout.write(JSON.stringify({ ok: false, error: String(error?.message ?? error) }) +
                         '\n');
    process.exitCode = 1;
  });
