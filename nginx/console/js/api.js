// api.js - the console's client of the fnrun HTTP API (SPEC §5-§7) and the
// one keeper of the admin token. The token lives in this tab's
// sessionStorage only: it goes into an Authorization header, never into a
// URL, a cookie, localStorage or a log line. Every call is to this origin
// (the page's CSP says connect-src 'self').

const TOKEN_KEY = 'fnrun.adminToken';

// SPEC §2 and §7: the server checks these too; the console checks first so
// that a name never has to be escaped into a path.
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const ENV_NAME_RE = /^[A-Z_][A-Z0-9_]{0,127}$/;

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(t) { sessionStorage.setItem(TOKEN_KEY, t); },
  clear() { sessionStorage.removeItem(TOKEN_KEY); },
};

// An answer that was not 2xx, or no answer. code and message are SPEC §4's;
// line and column are there for syntax errors.
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const b = body && typeof body === 'object' ? body : {};
    super(typeof b.message === 'string' ? b.message : fallback);
    this.status = status;
    this.code = typeof b.error === 'string' ? b.error : (status ? 'http_' + status : 'network');
    this.line = Number.isInteger(b.line) ? b.line : null;
    this.column = Number.isInteger(b.column) ? b.column : null;
  }
}

// Called with the error when the server refuses the token (it changed, or
// the tab holds a stale one); main.js signs out.
let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

async function call(method, path, { body, headers = {}, auth = true, token, any = false } = {}) {
  const h = new Headers(headers);
  if (auth) h.set('Authorization', 'Bearer ' + (token ?? session.token ?? ''));
  let res;
  try {
    res = await fetch(path, {
      method, headers: h, body, cache: 'no-store', credentials: 'omit',
      redirect: 'error', referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    throw new ApiError(0, null, 'cannot reach the server (' + e.message + ')');
  }
  const text = await res.text();
  if (!res.ok && !any) {
    let j = null;
    try { j = JSON.parse(text); } catch { /* not JSON: nginx or a proxy */ }
    const err = new ApiError(res.status, j, `HTTP ${res.status}`);
    if (res.status === 401 && auth && token === undefined) onUnauthorized(err);
    throw err;
  }
  return { status: res.status, text, headers: res.headers };
}

async function json(method, path, opts) {
  const r = await call(method, path, opts);
  return { status: r.status, data: r.text ? JSON.parse(r.text) : null };
}

const fnPath = (p, r, f) => `/functions/${p}/${r}/${f}`;

export const api = {
  // Checks a token without keeping it: 401 is ApiError('unauthorized').
  check: (token) => json('GET', '/projects', { token }),
  projects: () => json('GET', '/projects'),
  functions: (p) => json('GET', `/functions/${p}`),
  fn: (p, r, f) => json('GET', fnPath(p, r, f)),
  source: (p, r, f, n) => call('GET', `${fnPath(p, r, f)}/versions/${n}`),
  // SPEC §5: TypeScript is said by ?lang=ts and its Content-Type.
  deploy: (p, r, f, src, lang) => json('PUT', fnPath(p, r, f) + (lang === 'ts' ? '?lang=ts' : ''), {
    body: src,
    headers: { 'Content-Type': lang === 'ts' ? 'application/typescript' : 'application/javascript' },
  }),
  activate: (p, r, f, n) => json('PUT', `${fnPath(p, r, f)}/active`, {
    body: JSON.stringify({ version: n }), headers: { 'Content-Type': 'application/json' },
  }),
  // The console's test run: the invocation with the debug envelope
  // (SPEC §6), for the admin token (README "Console").
  invoke: (p, r, f, body) => json('POST', `${fnPath(p, r, f)}/invoke`, {
    body, headers: { 'Content-Type': 'application/json', 'X-Fn-Debug': '1' },
  }),
  envNames: (p) => json('GET', `/projects/${p}/env`),
  envSet: (p, name, value) => call('PUT', `/projects/${p}/env/${name}`, {
    body: value, headers: { 'Content-Type': 'application/octet-stream' },
  }),
  envUnset: (p, name) => call('DELETE', `/projects/${p}/env/${name}`),
  // Any status: a 503 (store unusable) still carries the fields.
  health: () => call('GET', '/healthz', { auth: false, any: true }).then(
    (r) => ({ status: r.status, data: JSON.parse(r.text) })),
};
