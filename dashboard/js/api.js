// The API client: the session (kept in sessionStorage, so it ends with the tab), refreshed
// with the refresh token before the access token runs out, and every call's problem document
// turned into an error that lists its violations.

export const API = '/api/v1';
const KEY = 'secondmile.session';

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `The server answered ${status}.`);
    this.status = status;
    this.code = problem && problem.code;
    this.violations = (problem && problem.errors) || [];
  }
}

let session = read();
let refreshing = null;
const listeners = new Set();

function read() {
  try {
    const raw = sessionStorage.getItem(KEY);
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
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

function forget() {
  session = null;
  sessionStorage.removeItem(KEY);
}

/** Called with no argument when the session ends (signed out or refused). */
export function onSessionEnd(fn) {
  listeners.add(fn);
}

export function hasSession() {
  return session !== null;
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
 * Calls the API. `options.body` (an object) is sent as JSON; `options.as` is 'json' (default),
 * 'blob' or 'response'. Answers { data, headers, status }.
 */
export async function call(path, options = {}) {
  if (!session) throw ended(new ApiError(401, { detail: 'Sign in to continue.' }));
  if (Date.now() > session.expiresAt) {
    try { await refresh(); } catch (error) { throw ended(error); }
  }
  let response = await send(path, options);
  if (response.status === 401 && session && session.refresh) {
    try { await refresh(); } catch (error) { throw ended(error); }
    response = await send(path, options);
  }
  if (response.status === 401) throw ended(new ApiError(401, await response.json().catch(() => null)));
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
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
  }
  return fetch(path.startsWith('/') ? path : `${API}/${path}`, init);
}

/** GET with query parameters (empty ones left out); answers the JSON body. */
export async function get(path, params = {}) {
  return (await call(withQuery(path, params))).data;
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
