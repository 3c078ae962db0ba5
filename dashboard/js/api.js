// The API client: the session, refreshed with the refresh token before the access token runs
// out, and every call's problem document turned into an error that lists its violations.
// The dashboard keeps the session in sessionStorage, so it ends with the tab; the shoppers'
// app (its page says `data-keep="device"`) keeps it on the device until the shopper signs
// out, since a shopper offline for days must still be able to send what they recorded.

export const API = '/api/v1';
const KEY = 'secondmile.session';
const storage = document.documentElement.dataset.keep === 'device' ? localStorage : sessionStorage;

export class ApiError extends Error {
  constructor(status, problem, headers) {
    super((problem && (problem.detail || problem.title)) || `The server answered ${status}.`);
    this.status = status;
    this.code = problem && problem.code;
    this.violations = (problem && problem.errors) || [];
    this.problem = problem || null;
    // Seconds to wait before trying again (429, 503), when the server said.
    const after = headers && Number(headers.get('retry-after'));
    this.retryAfter = Number.isFinite(after) && after >= 0 ? after : null;
  }
}

let session = read();
let refreshing = null;
const listeners = new Set();

// The answers of the GETs this tab made, so a view loaded once can be shown again while the
// server cannot be reached; and whether it can.
const answered = new Map();
const MAX_KEPT = 200;
let offline = false;
let loadedAt = null;
const connection = new Set();

/** Called with (online, time of the last answer) when the server stops or starts answering. */
export function onConnection(fn) {
  connection.add(fn);
}

export function isOffline() {
  return offline;
}

function reached(ok) {
  if (ok) loadedAt = Date.now();
  if (offline === !ok) return;
  offline = !ok;
  for (const fn of connection) fn(ok, loadedAt);
}

/** Whether the server answers now (its liveness probe). */
export async function reachable() {
  try {
    return (await fetch('/healthz', { cache: 'no-store' })).ok;
  } catch {
    return false;
  }
}

/** The network failed (no answer at all): the error pages show for it. */
function unreachable() {
  reached(false);
  const error = new ApiError(0, { detail: 'The server cannot be reached.' });
  error.code = 'offline';
  return error;
}

function read() {
  try {
    const raw = storage.getItem(KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function keep(token) {
  session = {
    access: token.access_token,
    // A refresh answer without a new refresh token keeps the one that still works.
    refresh: token.refresh_token || (session && session.refresh) || null,
    // Refreshed a minute early, so a request never leaves with a token about to expire.
    expiresAt: Date.now() + (token.expires_in - 60) * 1000,
  };
  storage.setItem(KEY, JSON.stringify(session));
}

function forget() {
  session = null;
  storage.removeItem(KEY);
  answered.clear();
}

/** Called with no argument when the session ends (signed out or refused). */
export function onSessionEnd(fn) {
  listeners.add(fn);
}

export function hasSession() {
  return session !== null;
}

/** Whether a refresh token is kept (the session can be renewed without the password). */
export function canRefresh() {
  return Boolean(session && session.refresh);
}

async function tokenRequest(fields) {
  const response = await fetch(`${API}/auth/token`, {
    method: 'POST',
    headers: { accept: 'application/json' },
    body: new URLSearchParams(fields),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function signIn(username, password, organization) {
  const fields = { grant_type: 'password', username, password };
  if (organization) fields.organization = organization;
  keep(await tokenRequest(fields));
}

/** Ends the sign-in session on the server (the refresh token is revoked) and here. */
export async function signOut() {
  const token = session && session.refresh;
  forget();
  if (token) {
    await fetch(`${API}/auth/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }),
    }).catch(() => {});
  }
}

async function refresh() {
  if (!session || !session.refresh) throw new ApiError(401, { detail: 'Your session has ended; sign in again.' });
  if (!refreshing) {
    refreshing = tokenRequest({ grant_type: 'refresh_token', refresh_token: session.refresh })
      .catch((error) => { throw error instanceof ApiError ? error : unreachable(); })
      .then(keep)
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

function ended(error) {
  forget();
  for (const fn of listeners) fn(error);
  return error;
}

/**
 * Calls the API. `options.body` (an object) is sent as JSON, `options.raw` (a Blob) as it is;
 * `options.as` is 'json' (default),
 * 'blob' or 'response'. Answers { data, headers, status }.
 */
export async function call(path, options = {}) {
  if (!session) throw ended(new ApiError(401, { detail: 'Sign in to continue.' }));
  if (Date.now() > session.expiresAt) {
    try { await refresh(); } catch (error) { throw error.code === 'offline' ? error : ended(error); }
  }
  let response;
  try {
    response = await send(path, options);
    if (response.status === 401 && session && session.refresh) {
      try { await refresh(); } catch (error) { throw error.code === 'offline' ? error : ended(error); }
      response = await send(path, options);
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw unreachable();
  }
  reached(true);
  if (response.status === 401) throw ended(new ApiError(401, await response.json().catch(() => null)));
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null), response.headers);
  const as = options.as || 'json';
  const data = as === 'blob' ? await response.blob() : as === 'json' ? await response.json() : null;
  return { data, headers: response.headers, status: response.status };
}

function send(path, options) {
  const headers = { accept: options.as === 'blob' ? '*/*' : 'application/json', authorization: `Bearer ${session.access}` };
  Object.assign(headers, options.headers || {});
  const init = { method: options.method || 'GET', headers };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  } else if (options.raw !== undefined) {
    // A file as it is (its type in `options.headers`).
    init.body = options.raw;
  }
  return fetch(path.startsWith('/') ? path : `${API}/${path}`, init);
}

/**
 * GET with query parameters (empty ones left out); answers the JSON body. While the server
 * cannot be reached, the last answer to the same GET (if this tab had one) is answered.
 */
export async function get(path, params = {}) {
  const url = withQuery(path, params);
  try {
    const { data } = await call(url);
    answered.delete(url);
    answered.set(url, data);
    if (answered.size > MAX_KEPT) answered.delete(answered.keys().next().value);
    return data;
  } catch (error) {
    if (error.code === 'offline' && answered.has(url)) return answered.get(url);
    throw error;
  }
}

/** Every page of a paginated list (at most `maxPages` pages). */
export async function all(path, params = {}, maxPages = 25) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const body = await get(path, { ...params, limit: 200, cursor });
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) return { items, complete: true };
  }
  return { items, complete: false };
}

export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
