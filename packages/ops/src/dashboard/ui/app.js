// The dashboard's shell: login, header, tabs. Every tab reads the JSON API only.
import { ApiError, get, post, setCsrf } from './api.js';
import { QueuesTab } from './queues.js';
import { CacheTab, LeaderboardsTab, LocksTab, RateLimitTab, SessionsTab } from './tabs.js';
import { html, render, useEffect, useState } from './vendor/preact.js';

const TABS = [
  ['queues', 'Queues', QueuesTab],
  ['locks', 'Locks', LocksTab],
  ['leaderboards', 'Leaderboards', LeaderboardsTab],
  ['ratelimits', 'Rate limits', RateLimitTab],
  ['sessions', 'Sessions', SessionsTab],
  ['cache', 'Cache', CacheTab],
];

function Login({ onDone }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    try {
      await post('login', { token });
      onDone();
    } catch (err) {
      setError(err.status === 401 ? 'Wrong token.' : err.message);
    }
  };
  return html`<form class="login" onSubmit=${submit}>
    <h1>redis-patterns dashboard</h1>
    <p>Paste the token the dashboard printed when it started.</p>
    <input type="password" name="token" autocomplete="off" aria-label="token" placeholder="token"
      value=${token} onInput=${(e) => setToken(e.target.value)} />
    <button type="submit">Log in</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}

function initialTab() {
  const wanted = location.hash.slice(1);
  return TABS.some(([id]) => id === wanted) ? wanted : 'queues';
}

function App() {
  const [me, setMe] = useState(undefined);
  const [error, setError] = useState('');
  const [tab, setTab] = useState(initialTab);
  const load = () =>
    get('me').then(
      (who) => {
        setCsrf(who.csrf);
        setMe(who);
      },
      (err) => (err instanceof ApiError && err.status === 401 ? setMe(null) : setError(err.message)),
    );
  useEffect(() => {
    load();
  }, []);
  useEffect(() => {
    location.hash = tab;
  }, [tab]);
  if (error) return html`<p class="error">${error}</p>`;
  if (me === undefined) return html`<p class="muted">Loading…</p>`;
  if (me === null) return html`<${Login} onDone=${load} />`;
  const logout = async () => {
    await post('logout');
    setMe(null);
  };
  const Tab = TABS.find(([id]) => id === tab)[2];
  return html`<header>
      <strong>redis-patterns</strong>
      <span class="muted" data-testid="redis">${me.redis}</span>
      <span class=${me.allowWrites ? 'badge warn' : 'badge'} data-testid="mode">
        ${me.allowWrites ? 'writes allowed' : 'read-only'}
      </span>
      ${me.login && html`<button class="link" onClick=${logout}>Log out</button>`}
    </header>
    <nav>
      ${TABS.map(
        ([id, label]) =>
          html`<button class=${id === tab ? 'tab active' : 'tab'} data-tab=${id} onClick=${() => setTab(id)}>
            ${label}
          </button>`,
      )}
    </nav>
    <section><${Tab} writes=${me.allowWrites} /></section>`;
}

render(html`<${App} />`, document.getElementById('app'));
