// The tabs other than Queues: locks, leaderboards, rate limits, sessions, cache.
import { formatMs, get, post, usePoll } from './api.js';
import { html, useState } from './vendor/preact.js';

/** `columns`: [[header, row => cell, 'num'?]]; `onRow` makes rows clickable. */
export function Table({ columns, rows, empty, testid, onRow, selected }) {
  if (!rows) return html`<p class="muted">Loading…</p>`;
  if (rows.length === 0) return html`<p class="muted" data-testid=${testid}>${empty}</p>`;
  return html`<table data-testid=${testid}>
    <thead><tr>${columns.map(([h, , cls]) => html`<th class=${cls}>${h}</th>`)}</tr></thead>
    <tbody>
      ${rows.map(
        (row, i) =>
          html`<tr class=${[onRow && 'clickable', selected?.(row) && 'selected'].filter(Boolean).join(' ')}
            onClick=${onRow && (() => onRow(row))} key=${i}>
            ${columns.map(([, cell, cls]) => html`<td class=${cls}>${cell(row)}</td>`)}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** The error line under a section (the API's message). */
export const Problem = ({ error }) => error && html`<p class="error" role="alert">${error.message}</p>`;

/** A one-field form: a label, an input and a button. */
function Ask({ label, button, onAsk, name }) {
  const [value, setValue] = useState('');
  const submit = (e) => {
    e.preventDefault();
    if (value.trim()) onAsk(value.trim());
  };
  return html`<form class="row" onSubmit=${submit}>
    <label>${label} <input name=${name} value=${value} onInput=${(e) => setValue(e.target.value)} /></label>
    <button type="submit">${button}</button>
  </form>`;
}

/**
 * A listing read a bounded number of keys at a time: the first page polled every `everyMs`, then
 * further pages on demand (`further`) from the cursor the last one stopped at.
 */
function useListing(path, everyMs, keyOf) {
  const first = usePoll(() => get(path), everyMs, []);
  const [more, setMore] = useState(null);
  const [error, setError] = useState(undefined);
  const next = more ? more.cursor : first.data?.cursor;
  const seen = new Set();
  const items = first.data
    ? [...first.data.items, ...(more?.items ?? [])].filter(
        (item) => !seen.has(keyOf(item)) && seen.add(keyOf(item)),
      )
    : undefined;
  const further = () =>
    get(path, { cursor: next }).then((page) => {
      setError(undefined);
      setMore({ items: [...(more?.items ?? []), ...page.items], cursor: page.cursor ?? null });
    }, setError);
  return { items, complete: !next, further, error: first.error ?? error };
}

/** "Scan further" under a listing that stopped before the end of the keyspace. */
const Further = ({ listing, what }) =>
  !listing.complete &&
  listing.items &&
  html`<p class="row"><span class="muted">Not every key was scanned: there may be more ${what}.</span>
    <button data-action="scan-further" onClick=${listing.further}>Scan further</button></p>`;

export function LocksTab() {
  const locks = useListing('locks', 2000, (l) => l.name);
  return html`<h2>Locks held</h2>
    <${Problem} error=${locks.error} />
    <${Table} testid="locks" rows=${locks.items}
      empty=${locks.complete ? 'No lock is held.' : 'No lock found in the keys scanned so far.'}
      columns=${[
        ['Name', (l) => html`<code>${l.name}</code>`],
        ['Kind', (l) => l.kind],
        ['Holders', (l) => l.holders.map((h) => h.owner).join(', ')],
        ['Waiters', (l) => l.waiters.length, 'num'],
        ['TTL', (l) => formatMs(Math.min(...l.holders.map((h) => h.ttlMs))), 'num'],
        ['Fencing token', (l) => l.lastFencingToken, 'num'],
      ]} />
    <${Further} listing=${locks} what="locks" />`;
}

const ENTRY_COLUMNS = [
  ['Rank', (e) => e.rank, 'num'],
  ['Member', (e) => e.member],
  ['Score', (e) => e.score, 'num'],
];

export function LeaderboardsTab() {
  const boards = useListing('leaderboards', 5000, (b) => `${b.name}\n${b.path.join('\n')}`);
  const [board, setBoard] = useState(null);
  const [member, setMember] = useState('');
  const ref = board && { board: board.name, path: board.path.join(',') };
  const top = usePoll(
    () => (ref ? get('leaderboards/top', { ...ref, n: 10 }) : Promise.resolve(null)),
    3000,
    [board],
  );
  const around = usePoll(
    () =>
      ref && member ? get('leaderboards/around', { ...ref, member, radius: 3 }) : Promise.resolve(undefined),
    0,
    [board, member],
  );
  const same = (b) => board && b.name === board.name && b.path.join(',') === board.path.join(',');
  return html`<h2>Boards</h2>
    <${Problem} error=${boards.error} />
    <${Table} testid="boards" rows=${boards.items} onRow=${setBoard} selected=${same}
      empty=${boards.complete ? 'No leaderboard found.' : 'No leaderboard found in the keys scanned so far.'}
      columns=${[
        ['Board', (b) => html`<code>${b.name}</code>`],
        ['Path', (b) => b.path.join(' / ')],
        ['Kind', (b) => b.kind],
        ['Members', (b) => b.size, 'num'],
      ]} />
    <${Further} listing=${boards} what="boards" />
    ${
      board &&
      html`<h2>Top 10 of ${board.name}</h2>
      <${Problem} error=${top.error} />
      <${Table} testid="top" rows=${top.data} empty="The board is empty." columns=${ENTRY_COLUMNS} />
      <${Ask} label="Around member" name="member" button="Show" onAsk=${setMember} />
      <${Problem} error=${around.error} />
      ${around.data === null && html`<p class="muted">${member} is not on this board.</p>`}
      ${
        around.data &&
        html`<${Table} testid="around" rows=${around.data.entries} columns=${ENTRY_COLUMNS}
        selected=${(e) => e.member === member} />`
      }`
    }`;
}

export function RateLimitTab() {
  const [identifier, setIdentifier] = useState('');
  const state = usePoll(() => (identifier ? get('ratelimit', { identifier }) : Promise.resolve(null)), 2000, [
    identifier,
  ]);
  const algorithms = state.data
    ? ['slidingWindowLog', 'slidingWindowCounter', 'fixedWindow', 'tokenBucket'].filter((k) => state.data[k])
    : [];
  return html`<h2>Rate-limit state of an identifier</h2>
    <${Ask} label="Identifier" name="identifier" button="Look up" onAsk=${setIdentifier} />
    <${Problem} error=${state.error} />
    ${
      state.data &&
      html`<div data-testid="ratelimit">
      ${algorithms.length === 0 && html`<p class="muted">No live state for ${identifier}.</p>`}
      ${algorithms.map((k) => html`<h2>${k}</h2><pre class="mono">${JSON.stringify(state.data[k], null, 2)}</pre>`)}
      <h2>Blocks</h2>
      <${Table} rows=${state.data.blocks} empty="No block in force."
        columns=${[['Block', (b) => html`<code>${JSON.stringify(b)}</code>`]]} />
    </div>`
    }`;
}

export function SessionsTab({ writes }) {
  const [user, setUser] = useState('');
  const list = usePoll(() => (user ? get('sessions', { user }) : Promise.resolve(null)), 3000, [user]);
  const [note, setNote] = useState(null);
  const revoke = async (handle) => {
    try {
      await post('api/sessions/revoke', { handle });
      list.reload();
    } catch (err) {
      setNote(err);
    }
  };
  const columns = [
    ['Handle', (s) => html`<code>${s.handle}</code>`],
    ['TTL', (s) => formatMs(s.ttlMs), 'num'],
    ['Bytes', (s) => s.dataBytes, 'num'],
    ['Created', (s) => new Date(s.createdAt).toLocaleString()],
    ['Last refresh', (s) => new Date(s.refreshedAt).toLocaleString()],
  ];
  if (writes)
    columns.push([
      '',
      (s) =>
        html`<button class="danger" data-action="revoke" onClick=${() => revoke(s.handle)}>Revoke</button>`,
    ]);
  return html`<h2>Sessions of a user</h2>
    <${Ask} label="User id" name="user" button="Show" onAsk=${setUser} />
    <${Problem} error=${list.error ?? note} />
    ${list.data && html`<${Table} testid="sessions" rows=${list.data.items} empty=${`No session for ${user}.`} columns=${columns} />`}`;
}

export function CacheTab({ writes }) {
  const stats = usePoll(() => get('cache'), 5000, []);
  const [note, setNote] = useState(null);
  const invalidate = async (tag) => {
    try {
      const { invalidated } = await post('api/cache/invalidate', { tag });
      setNote({ message: invalidated ? `Invalidated tag ${tag}.` : `Tag ${tag} had no version.` });
      stats.reload();
    } catch (err) {
      setNote(err);
    }
  };
  const s = stats.data;
  return html`<h2>Cache</h2>
    <${Problem} error=${stats.error} />
    ${
      s &&
      html`<div class="cards" data-testid="cache">
      <div class="card"><b>${s.entries}${s.complete ? '' : '+'}</b><span>entries</span></div>
      <div class="card"><b>${s.tagVersions}</b><span>tag versions</span></div>
      <div class="card"><b>${s.loadsInFlight}</b><span>loads in flight</span></div>
      <div class="card"><b>${(s.approxMemoryBytes / 1024).toFixed(1)} KiB</b><span>about, in memory</span></div>
    </div>
    <h2>Tags in a sample of entries</h2>
    <${Table} rows=${s.tags} empty="No tags in the sample."
      columns=${[['Tag', (t) => html`<code>${t.tag}</code>`], ['Sampled entries', (t) => t.sampledEntries, 'num']]} />`
    }
    ${writes && html`<${Ask} label="Invalidate tag" name="tag" button="Invalidate" onAsk=${invalidate} />`}
    ${note && html`<p class=${note instanceof Error ? 'error' : 'muted'}>${note.message}</p>`}`;
}
