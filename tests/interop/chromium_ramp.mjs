// Chromium publishes a camera over WHIP and reports how its send bitrate develops: the ramp-up
// test for congestion-control feedback (docs/whip-ingest.md). Chromium's estimator only raises
// its bitrate when the receiver sends transport-cc feedback (or REMB), so the curve printed here
// is the user-visible effect of that feedback.
//
//   node chromium_ramp.mjs <whip-url> <token> [seconds] [width] [height] [max-kbps] [y4m-file]
//
// Prints one JSON object: { ok, samples: [{ t, kbps, availableKbps, targetKbps, width, height,
// qualityLimitationReason }], offer, answer }. `kbps` is outbound-rtp video bytesSent over the
// last second; `availableKbps` is the selected candidate pair's availableOutgoingBitrate (the
// estimator's own figure, which a REMB caps).
// - width/height: getUserMedia constraints (default 1280x720, 30 fps).
// - max-kbps: the sender's encoding maxBitrate; set it above the server's cap so the cap, not
//   Chromium's default ceiling for the resolution, is what limits the bitrate.
// - y4m-file: --use-file-for-fake-video-capture. Chromium's built-in fake camera is so easy to
//   encode that the encoder may not fill a high target; a testsrc2 clip is not.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM_FLAGS, CHROMIUM_PATH, openHarnessPage } from './chromium.mjs';

async function launch(origin, y4m) {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'ivs-chromium-ramp-'));
  const args = [...CHROMIUM_FLAGS];
  if (y4m) args.push(`--use-file-for-fake-video-capture=${y4m}`);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH, headless: true, args, permissions: ['camera', 'microphone'],
    timeout: 60_000,
  });
  const page = await openHarnessPage(context, origin, context.pages()[0]);
  const close = async () => {
    await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true });
  };
  return { page, close };
}

// In the page: camera + microphone, sendonly, H.264 first, the encoding's maxBitrate raised.
async function createOffer(page, width, height, maxKbps) {
  return page.evaluate(async ({ width, height, maxKbps }) => {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width, height, frameRate: 30 } });
    const pc = new RTCPeerConnection();
    window.__ramp = { pc };
    for (const track of stream.getTracks()) {
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      if (track.kind !== 'video') continue;
      const codecs = RTCRtpSender.getCapabilities('video').codecs;
      const h264 = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/h264' &&
                                        /packetization-mode=1/.test(c.sdpFmtpLine || ''));
      transceiver.setCodecPreferences([...h264, ...codecs.filter((c) => !h264.includes(c))]);
      window.__ramp.sender = transceiver.sender;
    }
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const timer = setTimeout(resolve, 5000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
      });
    });
    if (maxKbps > 0) {
      const parameters = window.__ramp.sender.getParameters();
      parameters.encodings[0].maxBitrate = maxKbps * 1000;
      await window.__ramp.sender.setParameters(parameters);
    }
    return pc.localDescription.sdp;
  }, { width, height, maxKbps });
}

async function snapshot(page) {
  return page.evaluate(async () => {
    const report = await window.__ramp.pc.getStats();
    const out = { state: window.__ramp.pc.connectionState };
    report.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        Object.assign(out, { bytesSent: s.bytesSent, targetBitrate: s.targetBitrate,
          width: s.frameWidth, height: s.frameHeight, framesEncoded: s.framesEncoded,
          qualityLimitationReason: s.qualityLimitationReason });
      } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
        out.availableOutgoingBitrate = s.availableOutgoingBitrate;
      }
    });
    return out;
  });
}

async function main(argv) {
  const [url, token, seconds = '20', width = '1280', height = '720', maxKbps = '0', y4m] = argv;
  const browser = await launch(new URL(url).origin, y4m);
  try {
    const offer = await createOffer(browser.page, Number(width), Number(height), Number(maxKbps));
    const response = await fetch(url, { method: 'POST', body: offer,
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` } });
    const answer = await response.text();
    if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${answer}`);
    await browser.page.evaluate((sdp) =>
      window.__ramp.pc.setRemoteDescription({ type: 'answer', sdp }), answer);
    // The clock starts at "connected"; one sample per second after it.
    const connectDeadline = Date.now() + 15000;
    let previous = await snapshot(browser.page);
    while (previous.state !== 'connected') {
      if (previous.state === 'failed' || Date.now() > connectDeadline) {
        throw new Error(`not connected: ${previous.state}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      previous = await snapshot(browser.page);
    }
    const start = Date.now();
    let previousAt = start;
    const samples = [];
    for (let second = 1; second <= Number(seconds); ++second) {
      await new Promise((resolve) => setTimeout(resolve, start + second * 1000 - Date.now()));
      const current = await snapshot(browser.page);
      const now = Date.now();
      const bits = ((current.bytesSent ?? 0) - (previous.bytesSent ?? 0)) * 8;
      samples.push({
        t: Math.round((now - start) / 100) / 10,
        kbps: Math.round(bits / (now - previousAt)),
        availableKbps: current.availableOutgoingBitrate === undefined ? null :
          Math.round(current.availableOutgoingBitrate / 1000),
        targetKbps: current.targetBitrate === undefined ? null :
          Math.round(current.targetBitrate / 1000),
        width: current.width, height: current.height,
        qualityLimitationReason: current.qualityLimitationReason,
      });
      previous = current;
      previousAt = now;
    }
    return { ok: true, samples, offer, answer };
  } finally {
    await browser.close();
  }
}

main(process.argv.slice(2)).then(
  (result) => { process.stdout.write(JSON.stringify(result) + '\n'); },
  (error) => {
    process.stdout.write(JSON.stringify({ ok: false, error: String(error?.message ?? error) }) +
                         '\n');
    process.exitCode = 1;
  });
