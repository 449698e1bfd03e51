// WHIP (RFC 9725) and WHEP helpers shared by /publish and the stage page. Plain ES module, no
// build step. Our servers are ICE-lite and take no trickle (PATCH answers 405), so the offer is
// sent once ICE gathering is complete, with every candidate inside it.

// Resolves when gathering is complete, or after `timeoutMs` with what was gathered so far (host
// candidates on loopback arrive at once; a missing STUN server must not stall the page).
export function waitForIceGathering(pc, timeoutMs = 3000) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    }
    function check() { if (pc.iceGatheringState === 'complete') done(); }
    pc.addEventListener('icegatheringstatechange', check);
  });
}

// Puts H.264 first (packetization-mode=1, then 42e01f Constrained Baseline: what IVS takes).
// `side` is RTCRtpSender for publishing, RTCRtpReceiver for playback. Returns false when the
// browser has no H.264 or no setCodecPreferences (then its default order stays).
export function preferH264(transceiver, side) {
  if (!transceiver.setCodecPreferences || !side.getCapabilities) return false;
  const codecs = side.getCapabilities('video')?.codecs ?? [];
  const isH264 = (c) => c.mimeType.toLowerCase() === 'video/h264';
  const score = (c) => (/packetization-mode=1/.test(c.sdpFmtpLine || '') ? 2 : 0) +
      (/profile-level-id=42e01f/.test(c.sdpFmtpLine || '') ? 1 : 0);
  const h264 = codecs.filter(isH264).sort((a, b) => score(b) - score(a));
  if (h264.length === 0) return false;
  transceiver.setCodecPreferences([...h264, ...codecs.filter((c) => !isH264(c))]);
  return true;
}

// An HTTP refusal of a WHIP/WHEP request with a message a person can act on.
export class SignalingError extends Error {
  constructor(message, status = 0, retryAfterSeconds = null) {
    super(message);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

function serverReason(body) {
  try {
    const parsed = JSON.parse(body);
    if (parsed && typeof parsed.error === 'string') return parsed.error;
  } catch (_) { /* not JSON */ }
  return body.trim().slice(0, 300);
}

// The words for a refused POST; `what` is "publish" or "play".
export function describeRefusal(status, body, what) {
  const reason = serverReason(body);
  const suffix = reason ? ` Server said: ${reason}${/[.!?]$/.test(reason) ? '' : '.'}` : '';
  switch (status) {
    case 401: case 403:
      return `Wrong token (HTTP ${status}): the server refused the bearer token.${suffix}`;
    case 404: return `Not found (HTTP 404): check the URL.${suffix}`;
    case 409: return what === 'publish'
      ? `Refused (HTTP 409): another publisher is live and the server is set to refuse a second one.${suffix}`
      : `Nothing to play yet (HTTP 409): no publisher is live.${suffix}`;
    case 413: return `Offer too large (HTTP 413).${suffix}`;
    case 415: case 400: case 422:
      return `The server could not use this browser's offer (HTTP ${status}).${suffix}`;
    case 503: return `Unavailable (HTTP 503).${suffix}`;
    default: return `HTTP ${status}.${suffix}`;
  }
}

// POSTs an SDP offer; returns { answer, location } on 201, throws SignalingError otherwise
// (status 0 for a network failure).
export async function postOffer(url, offerSdp, { token = '', what = 'publish', timeoutMs = 10000 } = {}) {
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: offerSdp,
                                  signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new SignalingError(`Network error: could not reach ${url} (${error.name}: ${error.message}). ` +
                             'Is the server running, and does it allow this page (CORS)?', 0);
  }
  const body = await response.text();
  if (response.status !== 201) {
    const retry = Number(response.headers.get('Retry-After'));
    throw new SignalingError(describeRefusal(response.status, body, what), response.status,
                             Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  const location = response.headers.get('Location');
  return { answer: body, location: location ? new URL(location, url).toString() : null };
}

// DELETE on the session resource (RFC 9725 §4.3); returns the status, or 0 when unreachable.
export async function deleteResource(resourceUrl, token = '') {
  if (!resourceUrl) return 0;
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  try {
    const response = await fetch(resourceUrl, { method: 'DELETE', headers,
                                                signal: AbortSignal.timeout(5000) });
    return response.status;
  } catch (_) {
    return 0;
  }
}

// The video/audio rtp stats of `pc` in one object: { video: {...}, audio: {...} } for
// `type` 'outbound-rtp' or 'inbound-rtp', with the codec's MIME type resolved.
export async function rtpStats(pc, type) {
  const report = await pc.getStats();
  const out = {};
  report.forEach((s) => {
    if (s.type !== type || !s.kind || out[s.kind]) return;
    const codec = s.codecId ? report.get(s.codecId) : null;
    out[s.kind] = { ...s, codec: codec ? codec.mimeType.split('/')[1] : null,
                    fmtp: codec ? codec.sdpFmtpLine : null };
  });
  return out;
}

// Bits per second between two samples of a byte counter, in kbit/s.
export function kbps(bytesNow, bytesBefore, msNow, msBefore) {
  if (bytesBefore == null || msNow <= msBefore) return null;
  return ((bytesNow - bytesBefore) * 8) / (msNow - msBefore);
}

export function formatKbps(value) {
  if (value == null || !Number.isFinite(value)) return '–';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} Mbit/s` : `${Math.round(value)} kbit/s`;
}

// "12 s ago", "3 min ago", "2 h 5 min ago" from an ISO time; '' for none.
export function ago(iso, now = Date.now()) {
  if (!iso) return '';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 90) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min ago`;
}

// Element helper: el('td', {className: 'num', text: '3'}, child...).
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node[key] = value;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}
