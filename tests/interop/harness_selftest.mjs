// Self-test of chromium.mjs's WHIP and WHEP helpers without our server: a tiny HTTP endpoint
// in this Node process hands each offer to a second Chromium page that answers it (receiving
// for WHIP, sending the fake camera for WHEP). If whipPublish() gets a connected session with
// H.264 going out and whepView() sees framesDecoded rise, the helpers are sound, so a failure
// in a later interop test is about our server. Prints one JSON object; run in the netns.
import http from 'node:http';
import { launchChromium, openHarnessPage, whepView, whipPublish } from './chromium.mjs';

// The answering side, evaluated in its own page: answers an offer, sending the fake camera
// when `send` is set, and keeps the connection in window.__answerers.
async function answerOffer(page, offer, send) {
  return page.evaluate(async ({ offer, send }) => {
    const pc = new RTCPeerConnection();
    (window.__answerers = window.__answerers || []).push(pc);
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    if (send) {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
      for (const transceiver of pc.getTransceivers()) transceiver.direction = 'sendonly';
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const timer = setTimeout(resolve, 5000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
      });
    });
    return pc.localDescription.sdp;
  }, { offer, send });
}

// `answerer()` returns the answering page; it exists only once the browser is up, and the
// browser needs the endpoint's origin first.
function startEndpoint(answerer) {
  let sessions = 0;
  const server = http.createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    try {
      if (request.method === 'POST' && (request.url === '/whip' || request.url === '/whep')) {
        const answer = await answerOffer(answerer(), body, request.url === '/whep');
        response.writeHead(201, { 'Content-Type': 'application/sdp',
                                  Location: `${request.url}/${++sessions}` });
        response.end(answer);
      } else if (request.method === 'DELETE') {
        response.writeHead(200).end();
      } else {
        response.writeHead(404).end();
      }
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let answererPage;
const server = await startEndpoint(() => answererPage);
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await launchChromium({ origin: base });
const result = { ok: false };
try {
  answererPage = await openHarnessPage(browser.context, base);

  const publisher = await whipPublish(browser.page, `${base}/whip`, 'token');
  const published = await publisher.waitFor(
      (s) => s.connectionState === 'connected' && (s.outbound.video?.framesEncoded ?? 0) > 10,
      20000);
  result.whip = { location: publisher.location, stats: published,
                  deleteStatus: await publisher.stop() };

  const viewerPage = await openHarnessPage(browser.context, base);
  const viewer = await whepView(viewerPage, `${base}/whep`);
  const viewed = await viewer.waitForFrames(10, 20000);
  result.whep = { location: viewer.location, framesDecoded: await viewer.framesDecoded(),
                  stats: viewed, deleteStatus: await viewer.stop() };
  result.ok = true;
} catch (error) {
  result.error = String(error?.message ?? error);
  process.exitCode = 1;
} finally {
  server.close();
  await browser.close();
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit();
}
