// Talks to the dashboard's JSON API (relative URLs: the page works under any mount path).
import { useCallback, useEffect, useState } from './vendor/preact.js';

let csrf = null;

/** Set once `api/me` answered: every write sends it back in X-CSRF-Token. */
export function setCsrf(value) {
  csrf = value;
}

/** An answer other than 2xx, with the server's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function answer(res) {
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body.error?.message ?? res.statusText);
  return body;
}

/** GET api/<path>?<params>, empty params left out. */
export async function get(path, params = {}) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ).toString();
  return answer(await fetch(`api/${path}${query ? `?${query}` : ''}`, { credentials: 'same-origin' }));
}

/** POST a JSON body to `path` (login, logout, or api/...). */
export async function post(path, body = {}) {
  const headers = { 'content-type': 'application/json' };
  if (csrf !== null) headers['x-csrf-token'] = csrf;
  return answer(
    await fetch(path, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin' }),
  );
}

/**
 * Loads `load()` now, again every `everyMs`, and when `deps` change; `reload` loads at once
 * (after a write). Errors are kept beside the last good data.
 */
export function usePoll(load, everyMs, deps) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const reload = useCallback(() => {
    load().then(
      (data) => setState({ data, error: undefined }),
      (error) => setState((s) => ({ data: s.data, error })),
    );
  }, deps);
  useEffect(() => {
    reload();
    if (!everyMs) return undefined;
    const timer = setInterval(reload, everyMs);
    return () => clearInterval(timer);
  }, [reload, everyMs]);
  return { ...state, reload };
}

/** A duration for people: 950ms, 12.3s, 4m05s, 2h10m. */
export function formatMs(ms) {
  if (ms === undefined || ms === null || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
