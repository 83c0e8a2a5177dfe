// The dashboard's only way to the API: every call carries the token from sessionStorage in an
// Authorization header (never in a URL or a cookie), and unwraps cmsd's envelope. A failure is
// an ApiError with the server's status, stable code and message, shown to the user as is.
const KEY = 'cmsd.token';

export const session = {
  get token() {
    return sessionStorage.getItem(KEY);
  },
  set token(t) {
    if (t) sessionStorage.setItem(KEY, t);
    else sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  toString() {
    return `${this.status} ${this.code}: ${this.message}`;
  }
}

function headers(extra, token) {
  const h = { Accept: 'application/json', ...extra };
  const t = token ?? session.token;
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

async function failure(res) {
  let code = 'http_' + res.status,
    msg = res.statusText || 'request failed';
  try {
    const doc = await res.json();
    if (doc && doc.error) {
      code = doc.error.code;
      msg = doc.error.message;
    }
  } catch {
    /* not an envelope */
  }
  return new ApiError(res.status, code, msg);
}

// A GET that failed before any answer (the browser saw the network change, a connection was
// reset) is tried once more: reading is idempotent. Anything else is the caller's to see.
async function send(path, init) {
  try {
    return await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError' || (init.method && init.method !== 'GET')) throw e;
    await new Promise(r => setTimeout(r, 250));
    return fetch(path, init);
  }
}

// api('GET', '/v1/containers') -> data; body: an object (JSON) or a string with its type.
export async function api(method, path, { body, type, token, signal } = {}) {
  const extra = {};
  let payload;
  if (body !== undefined) {
    extra['Content-Type'] = type || 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await send(path, { method, headers: headers(extra, token), body: payload, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'unreachable', 'cmsd did not answer: ' + e.message);
  }
  if (!res.ok) throw await failure(res);
  const doc = await res.json();
  return doc.data;
}

// A conditional GET: {data, etag} when changed, {notModified: true} on a 304.
export async function getIfChanged(path, etag, signal) {
  const extra = etag ? { 'If-None-Match': etag } : {};
  const res = await send(path, { headers: headers(extra), signal, cache: 'no-store' });
  if (res.status === 304) return { notModified: true, etag };
  if (!res.ok) throw await failure(res);
  const doc = await res.json();
  return { data: doc.data, etag: res.headers.get('ETag') };
}

// Follows a Server-Sent Events route with fetch (EventSource cannot send the token): onEvent
// gets (name, data) for each event until the stream ends, the server sends "error", or
// signal aborts. Resolves with the reason it ended.
export async function follow(path, onEvent, signal) {
  const res = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal });
  if (!res.ok) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return 'closed';
    buf += value;
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let name = 'message',
        data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trimStart();
      }
      if (!data) continue;
      let parsed;
      try {
        parsed = JSON.parse(data);
      } catch {
        parsed = data;
      }
      if (name === 'end') return parsed.reason || 'end';
      if (name === 'error')
        throw new ApiError(500, parsed.reason || 'stream_error', parsed.message || 'stream failed');
      onEvent(name, parsed);
    }
  }
}

export const enc = encodeURIComponent;
