// /publish: publish camera + microphone (or a generated test pattern) to a WHIP endpoint.
// Flow: media -> RTCPeerConnection (sendonly, H.264 first) -> complete ICE gathering ->
// POST offer -> 201 answer + Location -> connected; Stop closes and DELETEs the Location.
import { deleteResource, el, formatKbps, kbps, postOffer, preferH264, rtpStats,
         SignalingError, waitForIceGathering } from './webrtc.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'ivs.publish.token';

let session = null;  // { pc, stream, resource, token, statsTimer, stopPattern, last }

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

function showNotice(message) {
  $('notice').textContent = message;
  $('notice').hidden = !message;
}

function setState(text, kind = '') {
  const badge = $('state');
  badge.textContent = text;
  badge.className = `badge ${kind}`;
  document.body.dataset.state = text;
}

// ---- media sources ------------------------------------------------------------------------

function parseSize() {
  const [width, height] = $('size').value.split('x').map(Number);
  return { width, height };
}

async function cameraStream({ width, height }) {
  return navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 } },
  });
}

// Colour bars, a moving clock and a sweeping marker on a canvas, plus a 440 Hz tone that beeps
// once a second: motion and sound make a frozen or silent relay obvious at a glance.
function patternStream({ width, height }) {
  const canvas = el('canvas', { width, height });
  const context = canvas.getContext('2d');
  const bars = ['#c0c0c0', '#c0c000', '#00c0c0', '#00c000', '#c000c0', '#c00000', '#0000c0'];
  const started = performance.now();
  const draw = () => {
    const barWidth = width / bars.length;
    bars.forEach((colour, i) => {
      context.fillStyle = colour;
      context.fillRect(i * barWidth, 0, barWidth + 1, height * 0.66);
    });
    context.fillStyle = '#111';
    context.fillRect(0, height * 0.66, width, height * 0.34);
    const elapsed = (performance.now() - started) / 1000;
    context.fillStyle = '#fff';
    context.fillRect((elapsed * width / 4) % width, height * 0.66, 8, height * 0.34);
    context.font = `bold ${Math.round(height / 9)}px monospace`;
    context.textBaseline = 'middle';
    context.fillText(new Date().toISOString().slice(11, 23), width * 0.05, height * 0.83);
    context.font = `${Math.round(height / 20)}px sans-serif`;
    context.fillText(`IVS media server test pattern  ${width}x${height}`, width * 0.05, height * 0.73);
  };
  draw();
  // A timer, not requestAnimationFrame: rAF stops in background tabs and the stream would freeze.
  const timer = setInterval(draw, 1000 / 30);
  const stream = canvas.captureStream(30);
  let audio = null;
  try {
    audio = new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 440;
    gain.gain.value = 0;
    for (let t = 0; t < 3600; t += 1) {
      gain.gain.setValueAtTime(0.15, audio.currentTime + t);
      gain.gain.setValueAtTime(0, audio.currentTime + t + 0.1);
    }
    const destination = audio.createMediaStreamDestination();
    oscillator.connect(gain).connect(destination);
    oscillator.start();
    audio.resume().catch(() => {});
    destination.stream.getAudioTracks().forEach((track) => stream.addTrack(track));
  } catch (error) {
    console.warn('no test tone:', error);
  }
  const stop = () => { clearInterval(timer); if (audio) audio.close().catch(() => {}); };
  return { stream, stop };
}

async function openSource() {
  const size = parseSize();
  if ($('source').value === 'camera') {
    try {
      return { stream: await cameraStream(size), stop: () => {} };
    } catch (error) {
      showNotice(`No camera/microphone (${error.name}: ${error.message}); publishing the test pattern instead.`);
    }
  }
  return patternStream(size);
}

// ---- session ------------------------------------------------------------------------------

async function start(event) {
  event.preventDefault();
  if (session) return;
  showError('');
  showNotice('');
  const url = $('whip-url').value.trim();
  const token = $('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('start').disabled = true;
  setState('starting', 'warn');
  let source;
  let pc;
  try {
    source = await openSource();
    $('preview').srcObject = source.stream;
    pc = new RTCPeerConnection();
    session = { pc, stream: source.stream, stopSource: source.stop, token, resource: null, last: {} };
    for (const track of source.stream.getTracks()) {
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [source.stream] });
      if (track.kind === 'video') {
        if (!preferH264(transceiver, RTCRtpSender)) showNotice('This browser offers no H.264; IVS stages need it.');
        await configureVideoSender(transceiver.sender, Number($('bitrate').value) * 1000);
      }
    }
    pc.addEventListener('connectionstatechange', onConnectionState);
    pc.addEventListener('iceconnectionstatechange', () => { $('ice-state').textContent = pc.iceConnectionState; });
    await pc.setLocalDescription(await pc.createOffer());
    setState('gathering', 'warn');
    await waitForIceGathering(pc, 3000);
    setState('signalling', 'warn');
    const { answer, location } = await postOffer(url, pc.localDescription.sdp, { token, what: 'publish' });
    session.resource = location;
    $('resource').textContent = location ? new URL(location).pathname : '(no Location)';
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    setState('connecting', 'warn');
    session.statsTimer = setInterval(updateStats, 1000);
    $('stop').disabled = false;
  } catch (error) {
    const message = error instanceof SignalingError ? error.message : `${error.name}: ${error.message}`;
    await teardown(false);
    showError(message);
    setState(error instanceof SignalingError && error.status === 401 ? 'wrong token' : 'error', 'bad');
  }
}

// Caps the video bitrate and keeps the chosen resolution. A broadcaster picked the size the stages
// should show, as OBS does; Chromium's default ('balanced') would halve it while the congestion
// controller ramps up or the CPU is busy, so stages would see 320x180 for the first seconds.
async function configureVideoSender(sender, bitsPerSecond) {
  const parameters = sender.getParameters();
  if (!parameters.encodings || parameters.encodings.length === 0) parameters.encodings = [{}];
  if (bitsPerSecond) parameters.encodings[0].maxBitrate = bitsPerSecond;
  parameters.degradationPreference = 'maintain-resolution';
  try { await sender.setParameters(parameters); } catch (_) { /* applied after negotiation */ }
}

function onConnectionState() {
  const state = session?.pc.connectionState;
  if (!state) return;
  const kind = state === 'connected' ? 'ok' : state === 'failed' || state === 'closed' ? 'bad' : 'warn';
  setState(state, kind);
  if (state === 'failed') {
    showError('The connection failed after signalling (ICE or DTLS). The media server must be ' +
              'reachable over UDP on its RTC port; behind NAT set RTC_ANNOUNCED_IP.');
  }
}

async function updateStats() {
  if (!session) return;
  const stats = await rtpStats(session.pc, 'outbound-rtp');
  const video = stats.video;
  const audio = stats.audio;
  const last = session.last;
  if (video) {
    $('video-bitrate').textContent = formatKbps(kbps(video.bytesSent, last.videoBytes, video.timestamp, last.videoTime));
    $('frames-encoded').textContent = String(video.framesEncoded ?? 0);
    $('resolution').textContent = video.frameWidth ? `${video.frameWidth}×${video.frameHeight}` : '–';
    $('fps').textContent = video.framesPerSecond != null ? String(Math.round(video.framesPerSecond)) : '–';
    $('codec').textContent = video.codec ? `${video.codec}${video.encoderImplementation ? ` (${video.encoderImplementation})` : ''}` : '–';
    $('limitation').textContent = video.qualityLimitationReason ?? '–';
    last.videoBytes = video.bytesSent;
    last.videoTime = video.timestamp;
  }
  if (audio) {
    $('audio-bitrate').textContent = formatKbps(kbps(audio.bytesSent, last.audioBytes, audio.timestamp, last.audioTime));
    last.audioBytes = audio.bytesSent;
    last.audioTime = audio.timestamp;
  }
}

// Ends the session; with `sendDelete` the server is told (RFC 9725 §4.3).
async function teardown(sendDelete) {
  const current = session;
  session = null;
  if (current) {
    clearInterval(current.statsTimer);
    // DELETE before closing: a server may end the session itself on the DTLS close alert, and
    // the DELETE would then find nothing.
    const status = sendDelete && current.resource
      ? await deleteResource(current.resource, current.token) : null;
    current.pc.close();
    current.stream.getTracks().forEach((track) => track.stop());
    current.stopSource();
    if (status !== null) {
      showNotice(status === 200 || status === 204 ? 'Stopped; the server ended the session.'
        : `Stopped; DELETE ${current.resource} answered ${status || 'nothing (unreachable)'}.`);
    }
  }
  $('preview').srcObject = null;
  $('start').disabled = false;
  $('stop').disabled = true;
}

async function stop() {
  await teardown(true);
  setState('stopped');
}

function init() {
  const params = new URLSearchParams(location.search);
  $('whip-url').value = params.get('url') ?? `${location.origin}/whip`;
  $('token').value = sessionStorage.getItem(TOKEN_KEY) ?? '';
  if (params.get('source')) $('source').value = params.get('source');
  if (params.get('size')) $('size').value = params.get('size');
  $('publish-form').addEventListener('submit', start);
  $('stop').addEventListener('click', stop);
  window.addEventListener('pagehide', () => { if (session) teardown(true); });
  // For tests and the curious: the live session.
  window.ivsPublish = { get session() { return session; } };
}

init();
