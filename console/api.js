// The HTTP API: the JWT lives in sessionStorage (this tab only, gone with it), never in a cookie.

const KEY = 'kiroshi.auth';
let unauthorized = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    const fields = problem?.errors ? Object.entries(problem.errors).map(([k, v]) => `${k}: ${[v].flat().join(' ')}`) : [];
    super(fields.length ? fields.join('; ') : problem?.detail ?? `the server answered ${status}`);
    this.status = status;
    this.code = problem?.code ?? null;
  }
}

export const auth = {
  get() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
      return saved && saved.expires > Date.now() ? saved : null;
    } catch {
      return null;
    }
  },
  set(login) {
    const saved = { token: login.token, userId: login.user_id, expires: Date.now() + login.expires_in * 1000 };
    sessionStorage.setItem(KEY, JSON.stringify(saved));
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
  /** What to do when the server says the token is no longer good (401, or 4401 on a chat session). */
  onUnauthorized(handler) {
    unauthorized = handler;
  },
  expired() {
    unauthorized();
  },
};

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const session = auth.get();
  if (session) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && session) auth.expired();
    throw error;
  }
  return data;
}

/** Every item of a paginated list (`key`: `chats`, `plans`...), following `next_cursor`, up to `most`. */
export async function every(path, key, most = 1000) {
  const items = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) });
    const page = await api('GET', `${path}?${query}`);
    items.push(...page[key]);
    cursor = page.next_cursor;
  } while (cursor && items.length < most);
  return items;
}
