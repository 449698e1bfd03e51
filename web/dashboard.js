// The media server dashboard: polls GET /api/status every second and GET /api/admin (the stage
// buttons' proxy) every 5 s. Nothing here keeps state the server does not have, except the
// last 60 bitrate samples per stage for the sparklines.
import { ago, el, formatKbps } from './webrtc.js';

const $ = (id) => document.getElementById(id);
const HISTORY = 60;
const TOKEN_KEY = 'ivs.dashboard.adminToken';

const rows = new Map();  // stageArn -> { row, cells, canvas, history }
let admin = { available: null, enabled: false, stages: [] };
let lastStatus = null;

// ---- small helpers ------------------------------------------------------------------------

function setText(id, text) {
  const node = $(id);
  if (node.textContent !== text) node.textContent = text;
}

function yesNo(id, value, good = true) {
  const node = $(id);
  node.textContent = value == null ? '–' : value ? 'yes' : 'no';
  node.className = `value ${value == null ? '' : value === good ? 'ok-text' : 'bad-text'}`;
}

function num(value, digits = 0) {
  return value == null || !Number.isFinite(Number(value)) ? '–' : Number(value).toFixed(digits);
}

// level_idc 31 -> "3.1" (H.264 Annex A); strings pass through.
function formatLevel(level) {
  return typeof level === 'number' && level >= 10 ? (level / 10).toFixed(1) : String(level);
}

function stageId(arn) {
  return String(arn).split('/').pop();
}

function percent(fraction) {
  if (fraction == null) return '–';
  const value = fraction > 1 ? fraction / 256 : fraction;  // tolerate the raw RTCP 0..255 form
  return `${(value * 100).toFixed(1)} %`;
}

// ---- control plane and publisher ------------------------------------------------------------

function renderControlPlane(status) {
  setText('server-id', status.serverId ?? '');
  setText('version', status.version ? `v${status.version}` : '');
  setText('uptime', status.uptime != null ? `up ${Math.round(status.uptime)} s` : '');
  yesNo('registered', status.registered);
  yesNo('websocket', status.websocketConnected);
  setText('last-sync', status.lastStageSync ? ago(status.lastStageSync) : 'never');
  $('last-sync').title = status.lastStageSync ?? '';
  setText('egress-mode', status.egress?.mode ?? status.egressMode ?? '–');
  yesNo('shutting-down', status.shuttingDown, false);
  const note = status.egress?.note;
  $('egress-note').hidden = !note;
  if (note) setText('egress-note', note);
}

// The server's warnings plus the two IVS limits a broadcaster hits most: a profile other than
// (Constrained) Baseline (B-frames are refused by IVS) and more than 720p.
function publisherWarnings(publisher) {
  const warnings = (publisher.warnings ?? []).map((w) => (typeof w === 'string' ? w : w.message ?? JSON.stringify(w)));
  const profile = publisher.profile ? String(publisher.profile) : '';
  if (profile && !/baseline/i.test(profile) && !/^42/i.test(profile) &&
      !warnings.some((w) => /profile|baseline/i.test(w))) {
    warnings.push(`H.264 profile is ${profile}: IVS stages need Baseline (no B-frames). In OBS set x264 profile=baseline.`);
  }
  if (publisher.height > 720 && !warnings.some((w) => /720|resolution/i.test(w))) {
    warnings.push(`Resolution ${publisher.width}×${publisher.height} is above 720p, the IVS Real-Time limit.`);
  }
  return warnings;
}

function renderPublisher(status) {
  const publisher = status.publisher ?? {};
  const live = publisher.live ?? publisher.active ?? status.stats?.publisherActive ?? false;
  const badge = $('publisher-live');
  badge.textContent = live ? 'live' : 'offline';
  badge.className = `badge ${live ? 'ok' : ''}`;
  document.body.dataset.publisherLive = String(live);
  setText('pub-codec', live ? publisher.codec ?? '–' : '–');
  setText('pub-profile', live && publisher.profile ? `${publisher.profile}${publisher.level ? ` / ${formatLevel(publisher.level)}` : ''}` : '–');
  setText('pub-resolution', live && publisher.width ? `${publisher.width}×${publisher.height}` : '–');
  setText('pub-video-bitrate', live ? formatKbps(publisher.videoBitrateKbps) : '–');
  setText('pub-audio-bitrate', live ? formatKbps(publisher.audioBitrateKbps) : '–');
  setText('pub-since', live && publisher.since ? ago(publisher.since) : '–');
  $('pub-since').title = publisher.since ?? '';
  setText('pub-lost', num(publisher.packetsLost));
  setText('pub-nacks', num(publisher.nacksSent));
  setText('pub-keyframes', publisher.keyframes != null
    ? `${publisher.keyframes} (${num(publisher.keyframeRequests)})` : '–');
  setText('viewers', num(status.viewers));
  renderLayers(live ? publisher.layers ?? [] : [], publisher.chosenLayer);
  const warnings = publisherWarnings(publisher);
  const box = $('publisher-warnings');
  box.hidden = warnings.length === 0;
  box.replaceChildren(el('strong', { text: 'Warnings' }),
    el('ul', {}, ...warnings.map((text) => el('li', { text }))));
}

// INGEST_PULL_URL and SHARD_PEERS (docs/scale-out.md): where the stream comes from, and which
// share of the stages this server publishes. Hidden on a server that uses neither.
function renderScaleOut(status) {
  const pull = status.ingestPull;
  const shard = status.shard;
  $('scale-out').hidden = !pull && !shard;
  setText('source', status.publisher?.source ?? '–');
  setText('pull-state', pull ? `${pull.state} (${pull.url})` : 'not configured');
  setText('pull-counts', pull ? `${num(pull.attempts)} / ${num(pull.connects)}` : '–');
  $('pull-error').hidden = !pull?.lastError || pull.state === 'connected';
  if (pull?.lastError) setText('pull-error', `Last pull problem: ${pull.lastError}`);
  setText('shard-self', shard ? `${shard.self}${shard.selfInSet ? '' : ' (not in the set)'}` : '–');
  setText('shard-peers', shard ? (shard.peers ?? []).join(', ') || 'none yet' : '–');
  setText('shard-held', shard
    ? `${num(shard.heldStages)} of ${num(shard.listedStages)}${shard.handingOver?.length ? `, ${shard.handingOver.length} handing over` : ''}`
    : '–');
}

// Simulcast publishers: every layer from its SPS, and the one stages get (the chosen one).
function renderLayers(layers, chosen) {
  const section = $('pub-simulcast');
  section.hidden = layers.length === 0;
  section.dataset.chosenLayer = chosen ?? '';
  setText('pub-chosen-layer', chosen ? `stages get "${chosen}"` : 'no layer chosen yet');
  const rows = layers.map((layer) => {
    const state = layer.chosen ? 'chosen' : !layer.active ? 'stopped'
      : layer.fitsIvs ? 'fits IVS' : layer.width ? 'above IVS limits' : 'waiting for SPS';
    const row = el('tr', {},
      el('td', { text: layer.rid }),
      el('td', { text: layer.width ? `${layer.width}×${layer.height}` : '–' }),
      el('td', { text: layer.active ? formatKbps(layer.bitrateKbps) : '–' }),
      el('td', { text: state }));
    row.dataset.rid = layer.rid;
    if (layer.chosen) {
      row.className = 'chosen';
    }
    return row;
  });
  $('pub-layers').tBodies[0].replaceChildren(...rows);
}

// ---- stages -------------------------------------------------------------------------------

function drawSparkline(canvas, history) {
  const ratio = window.devicePixelRatio || 1;
  const width = 120;
  const height = 28;
  if (canvas.width !== width * ratio) {
    canvas.width = width * ratio;
    canvas.height = height * ratio;
  }
  const context = canvas.getContext('2d');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  const values = history.map((v) => (Number.isFinite(v) ? v : 0));
  const max = Math.max(1, ...values);
  context.strokeStyle = '#3559e0';
  context.fillStyle = 'rgba(53, 89, 224, 0.12)';
  context.lineWidth = 1.5;
  context.beginPath();
  // Newest sample at the right edge, so a young row grows in from the right.
  const xOf = (i) => width - ((values.length - 1 - i) / (HISTORY - 1)) * width;
  values.forEach((value, i) => {
    const x = xOf(i);
    const y = height - 2 - (value / max) * (height - 4);
    if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
  });
  context.stroke();
  if (values.length > 1) {
    context.lineTo(width, height);
    context.lineTo(xOf(0), height);
    context.fill();
  }
}

function makeRow(arn) {
  const cells = {};
  const cell = (name, className = '') => (cells[name] = el('td', { className }));
  const canvas = el('canvas', { className: 'sparkline' });
  const deleteButton = el('button', { className: 'danger', type: 'button', text: 'Delete', hidden: true });
  deleteButton.addEventListener('click', () => onDelete(arn, deleteButton));
  const row = el('tr', { dataset: { stageArn: arn, stageId: stageId(arn) } },
    cell('name'), el('td', {}, cells.stateBadge = el('span', { className: 'badge' })),
    el('td', {}, canvas), cell('bitrate', 'num'), cell('rtt', 'num'), cell('loss', 'num'),
    cell('nacks', 'num'), cell('plis', 'num'), cell('retransmitted', 'num'), cell('error', 'error'),
    cell('since'), el('td', {}, deleteButton));
  $('stage-rows').append(row);
  return { row, cells, canvas, history: [], deleteButton };
}

function renderStage(entry, stage) {
  const { cells } = entry;
  const named = admin.stages.find((s) => s.stageArn === stage.stageArn);
  const id = stageId(stage.stageArn);
  // The reference API server names unnamed stages "stage-<id>": no need to show the id twice.
  const label = named?.name ? (named.name.endsWith(id) ? named.name : `${named.name} (${id})`) : id;
  cells.name.textContent = label;
  cells.name.title = stage.stageArn;
  cells.stateBadge.textContent = stage.state;
  cells.stateBadge.className = `badge state-${stage.state}`;
  cells.stateBadge.title = stage.note ?? (stage.nextEventInSeconds != null ? `next attempt in ${stage.nextEventInSeconds} s` : '');
  entry.row.dataset.state = stage.state;
  cells.bitrate.textContent = num(stage.bitrateKbps);
  cells.rtt.textContent = stage.rttMs != null ? `${num(stage.rttMs)} ms` : '–';
  cells.loss.textContent = stage.fractionLost != null || stage.packetsLost != null
    ? `${percent(stage.fractionLost)} (${num(stage.packetsLost)})` : '–';
  cells.nacks.textContent = num(stage.nacksReceived);
  cells.plis.textContent = num(stage.plisReceived);
  cells.retransmitted.textContent = num(stage.retransmitted);
  cells.error.textContent = stage.lastError ?? '';
  cells.since.textContent = ago(stage.since);
  cells.since.title = stage.since ?? '';
  entry.history.push(Number(stage.bitrateKbps ?? 0));
  if (entry.history.length > HISTORY) entry.history.shift();
  drawSparkline(entry.canvas, entry.history);
  entry.deleteButton.hidden = !(admin.available && admin.enabled);
}

function renderStages(status) {
  const stages = status.stages ?? [];
  const seen = new Set();
  for (const stage of stages) {
    seen.add(stage.stageArn);
    if (!rows.has(stage.stageArn)) rows.set(stage.stageArn, makeRow(stage.stageArn));
    renderStage(rows.get(stage.stageArn), stage);
  }
  for (const [arn, entry] of rows) {
    if (!seen.has(arn)) { entry.row.remove(); rows.delete(arn); }
  }
  const connected = stages.filter((s) => s.state === 'connected').length;
  setText('stage-summary', `${connected} of ${stages.length} connected`);
  $('no-stages').hidden = stages.length > 0;
  document.body.dataset.stageCount = String(stages.length);
}

async function pollStatus() {
  try {
    const response = await fetch('/api/status', { cache: 'no-store', signal: AbortSignal.timeout(2500) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    lastStatus = await response.json();
    $('unreachable').hidden = true;
    renderControlPlane(lastStatus);
    renderPublisher(lastStatus);
    renderScaleOut(lastStatus);
    renderStages(lastStatus);
  } catch (error) {
    setText('unreachable', `The media server does not answer /api/status (${error.message}); retrying every second.`);
    $('unreachable').hidden = false;
  }
}

// ---- stage buttons (through the media server's /api/admin proxy) ---------------------------

async function pollAdmin() {
  try {
    const response = await fetch('/api/admin', { cache: 'no-store', signal: AbortSignal.timeout(2500) });
    admin = response.ok ? await response.json() : { available: false, enabled: false, stages: [],
                                                     error: `/api/admin answered ${response.status}` };
  } catch (error) {
    admin = { available: false, enabled: false, stages: [], error: error.message };
  }
  const usable = Boolean(admin.available && admin.enabled);
  $('admin').hidden = !usable;
  const unavailable = $('admin-unavailable');
  unavailable.hidden = usable || admin.available === null;
  unavailable.textContent = admin.disabledReason
    ? `Stage buttons are off: ${admin.disabledReason}.`
    : !admin.enabled && admin.available
      ? 'Stage buttons are off: set WHIP_INGEST_TOKEN on the media server (it is also the admin token).'
      : `Stage buttons are off: the API server's admin routes are not reachable${admin.error ? ` (${admin.error})` : ''}.`;
  document.body.dataset.adminAvailable = String(usable);
  for (const entry of rows.values()) entry.deleteButton.hidden = !usable;
  // The first answer is "not checked yet" (null); ask again soon instead of in 5 s.
  if (admin.available === null) setTimeout(pollAdmin, 500);
  return usable;
}

function adminMessage(text, kind = '') {
  const node = $('admin-message');
  node.textContent = text;
  node.className = kind === 'bad' ? 'bad-text' : 'muted';
}

function adminHeaders() {
  const token = $('admin-token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  return { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
}

function describeProxyError(status, body) {
  const reason = body?.error ?? '';
  if (status === 401) return `Wrong token (HTTP 401). ${reason}`;
  return `HTTP ${status}${reason ? `: ${reason}` : ''}`;
}

// Sends one admin call and waits for the API server's answer via /api/admin/requests/<id>.
async function adminCall(method, path, body) {
  const response = await fetch(path, { method, headers: adminHeaders(), body });
  const accepted = await response.json().catch(() => ({}));
  if (response.status !== 202) throw new Error(describeProxyError(response.status, accepted));
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const outcome = await (await fetch(`/api/admin/requests/${accepted.requestId}`, { cache: 'no-store' })).json();
    if (!outcome.done) continue;
    if (outcome.error) throw new Error(`API server unreachable: ${outcome.error}`);
    if (outcome.status < 200 || outcome.status >= 300) {
      throw new Error(`API server answered ${describeProxyError(outcome.status, outcome.body)}`);
    }
    return outcome.body;
  }
  throw new Error('no answer from the API server within 15 s');
}

async function onCreate(event) {
  event.preventDefault();
  const button = $('create-stage');
  button.disabled = true;
  adminMessage('Creating…');
  try {
    const name = $('stage-name').value.trim();
    const stage = await adminCall('POST', '/api/admin/stages', JSON.stringify(name ? { name } : {}));
    adminMessage(`Created stage ${stage?.name ?? ''} (${stage?.id ?? '?'}); the media server joins it when the API server announces it.`);
    $('stage-name').value = '';
    pollAdmin();
  } catch (error) {
    adminMessage(`Create failed: ${error.message}`, 'bad');
  } finally {
    button.disabled = false;
  }
}

// Two clicks: the first arms the button for 4 s, the second deletes.
async function onDelete(arn, button) {
  if (button.dataset.armed !== 'true') {
    button.dataset.armed = 'true';
    button.textContent = 'Really delete?';
    setTimeout(() => { button.dataset.armed = 'false'; button.textContent = 'Delete'; }, 4000);
    return;
  }
  button.disabled = true;
  adminMessage(`Deleting ${stageId(arn)}…`);
  try {
    await adminCall('DELETE', `/api/admin/stages/${encodeURIComponent(stageId(arn))}`);
    adminMessage(`Deleted stage ${stageId(arn)}.`);
    pollAdmin();
  } catch (error) {
    adminMessage(`Delete failed: ${error.message}`, 'bad');
  } finally {
    button.disabled = false;
  }
}

function init() {
  const params = new URLSearchParams(location.search);
  $('stage-page-link').href = params.get('stages') ?? `${location.protocol}//${location.hostname}:3002/`;
  $('admin-token').value = sessionStorage.getItem(TOKEN_KEY) ?? '';
  $('create-form').addEventListener('submit', onCreate);
  pollStatus();
  pollAdmin();
  setInterval(pollStatus, 1000);
  setInterval(pollAdmin, 5000);
  window.ivsDashboard = { get status() { return lastStatus; }, get admin() { return admin; } };
}

init();
