// The stage role's page: one WHEP viewer per live stage, side by side. The stage list
// (GET /api/stages) is polled every 2 s; a stage that is live gets a tile and a viewer, a stage
// that stops being live (or disappears) loses both. A viewer is restarted when its connection
// fails or its video stops advancing, e.g. after the media server re-published to the stage.
import { deleteResource, el, formatKbps, kbps, postOffer, preferH264, rtpStats,
         SignalingError, waitForIceGathering } from './webrtc.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const STALL_MS = 10000;

const viewers = new Map();  // stage id -> viewer

function stageStateBadge(text, kind) {
  return el('span', { className: `badge ${kind}`, text });
}

function createTile(stage) {
  const video = el('video', { autoplay: true, muted: true, playsInline: true });
  const badge = stageStateBadge('connecting', 'warn');
  const frames = el('span', { text: 'frames 0' });
  const resolution = el('span', { text: '–' });
  const bitrate = el('span', { text: '–' });
  const note = el('div', { className: 'muted' });
  const tile = el('div', { className: 'tile', dataset: { stageId: stage.id, framesDecoded: '0' } },
    el('h3', {}, el('span', { text: stage.id }), badge),
    video,
    el('div', { className: 'caption' }, frames, resolution, bitrate),
    note);
  $('tiles').append(tile);
  return { tile, video, badge, frames, resolution, bitrate, note };
}

function setBadge(viewer, text, kind) {
  viewer.ui.badge.textContent = text;
  viewer.ui.badge.className = `badge ${kind}`;
}

async function connect(viewer) {
  const token = ++viewer.attempt;
  closePeer(viewer);
  const pc = new RTCPeerConnection();
  viewer.pc = pc;
  viewer.framesDecoded = 0;
  viewer.lastProgress = Date.now();
  preferH264(pc.addTransceiver('video', { direction: 'recvonly' }), RTCRtpReceiver);
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addEventListener('track', (event) => {
    if (event.track.kind === 'video') viewer.ui.video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
  });
  pc.addEventListener('connectionstatechange', () => {
    const state = pc.connectionState;
    setBadge(viewer, state, state === 'connected' ? 'ok' : state === 'failed' ? 'bad' : 'warn');
  });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc, 2000);
    const { answer, location } = await postOffer(viewer.whepUrl, pc.localDescription.sdp, { what: 'play' });
    if (token !== viewer.attempt || viewer.closed) {
      deleteResource(location);
      return;
    }
    viewer.resource = location;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    viewer.ui.note.textContent = '';
  } catch (error) {
    if (token !== viewer.attempt || viewer.closed) return;
    closePeer(viewer);
    const retrySeconds = error instanceof SignalingError && error.retryAfterSeconds ? error.retryAfterSeconds : 2;
    setBadge(viewer, error instanceof SignalingError && error.status === 409 ? 'waiting' : 'error', 'warn');
    viewer.ui.note.textContent = `${error.message} Retrying in ${retrySeconds} s.`;
    viewer.retryTimer = setTimeout(() => connect(viewer), retrySeconds * 1000);
  }
}

function closePeer(viewer) {
  clearTimeout(viewer.retryTimer);
  // DELETE first (RFC 9725 §4.3 style); closing also ends the session on DTLS close.
  if (viewer.resource) deleteResource(viewer.resource);
  viewer.resource = null;
  if (viewer.pc) viewer.pc.close();
  viewer.pc = null;
}

function addViewer(stage) {
  const viewer = { id: stage.id, whepUrl: new URL(stage.whepUrl ?? `/whep/${stage.id}`, location.href).toString(),
                   ui: createTile(stage), attempt: 0, pc: null, resource: null, closed: false,
                   framesDecoded: 0, lastProgress: Date.now(), last: {}, playing: false };
  viewers.set(stage.id, viewer);
  connect(viewer);
}

function removeViewer(viewer) {
  viewer.closed = true;
  closePeer(viewer);
  viewer.ui.tile.remove();
  viewers.delete(viewer.id);
}

async function updateViewerStats(viewer) {
  if (!viewer.pc) { viewer.playing = false; return; }
  const video = (await rtpStats(viewer.pc, 'inbound-rtp')).video;
  const now = Date.now();
  if (video) {
    const frames = video.framesDecoded ?? 0;
    viewer.playing = frames > viewer.framesDecoded;
    if (viewer.playing) viewer.lastProgress = now;
    viewer.framesDecoded = frames;
    viewer.ui.tile.dataset.framesDecoded = String(frames);
    viewer.ui.frames.textContent = `frames ${frames}`;
    viewer.ui.resolution.textContent = video.frameWidth ? `${video.frameWidth}×${video.frameHeight}` : '–';
    viewer.ui.bitrate.textContent = formatKbps(kbps(video.bytesReceived, viewer.last.bytes, video.timestamp, viewer.last.time));
    viewer.last = { bytes: video.bytesReceived, time: video.timestamp };
  }
  const state = viewer.pc.connectionState;
  if (state === 'failed' || state === 'closed' || now - viewer.lastProgress > STALL_MS) {
    viewer.ui.note.textContent = state === 'failed' ? 'Connection failed; reconnecting.' : 'Video stalled; reconnecting.';
    connect(viewer);
  }
}

async function refreshStats() {
  await Promise.all([...viewers.values()].map((viewer) => updateViewerStats(viewer).catch(() => {})));
  const playing = [...viewers.values()].filter((viewer) => viewer.playing).length;
  $('playing-count').textContent = String(playing);
  $('stage-count').textContent = String(viewers.size);
  document.body.dataset.playing = String(playing);
  $('empty').hidden = viewers.size > 0;
}

async function poll() {
  try {
    const response = await fetch('/api/stages', { cache: 'no-store', signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`GET /api/stages answered ${response.status}`);
    const stages = (await response.json()).stages ?? [];
    const live = new Map(stages.filter((stage) => stage.live).map((stage) => [stage.id, stage]));
    for (const viewer of [...viewers.values()]) if (!live.has(viewer.id)) removeViewer(viewer);
    for (const stage of [...live.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      if (!viewers.has(stage.id)) addViewer(stage);
    }
    $('error').hidden = true;
  } catch (error) {
    $('error').textContent = `Cannot read the stage list: ${error.message}`;
    $('error').hidden = false;
  }
}

function init() {
  const params = new URLSearchParams(location.search);
  const dashboard = params.get('dashboard') ?? `${location.protocol}//${location.hostname}:3001/`;
  $('dashboard-link').href = dashboard;
  poll();
  setInterval(poll, POLL_MS);
  setInterval(refreshStats, 1000);
  window.addEventListener('pagehide', () => viewers.forEach((viewer) => closePeer(viewer)));
  window.ivsStages = { viewers };
}

init();
