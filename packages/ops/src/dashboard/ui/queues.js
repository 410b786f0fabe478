// The Queues tab: every queue's counts, then the chosen queue's charts, jobs, schedules and controls.
import { formatMs, get, post, usePoll } from './api.js';
import { Chart } from './chart.js';
import { Problem, Table } from './tabs.js';
import { html, useMemo, useState } from './vendor/preact.js';

const STATES = ['waiting', 'active', 'delayed', 'dead', 'completed'];
const PAGE = 20;

const COUNT_COLUMNS = [
  ['Queue', (q) => html`<code>${q.name}</code>`],
  ...['waiting', 'active', 'delayed', 'dead', 'completed', 'failed'].map((k) => [k, (q) => q[k], 'num']),
  ['Paused', (q) => (q.paused ? 'yes' : 'no')],
];

export function QueuesTab({ writes }) {
  const list = usePoll(() => get('queues'), 2000, []);
  const [chosen, setChosen] = useState(null);
  const name = chosen ?? list.data?.queues[0]?.name ?? null;
  return html`<h2>Queues</h2>
    <${Problem} error=${list.error} />
    ${list.data?.samplerError && html`<p class="error">Sampling: ${list.data.samplerError}</p>`}
    <${Table} testid="queues" rows=${list.data?.queues} columns=${COUNT_COLUMNS}
      empty=${list.data?.complete === false ? 'No queue found in the keys scanned so far.' : 'No queue found under the prefix.'}
      onRow=${(q) => setChosen(q.name)} selected=${(q) => q.name === name} />
    ${
      list.data?.complete === false &&
      list.data.queues.length > 0 &&
      html`<p class="muted" data-testid="queues-incomplete">Showing ${list.data.queues.length} of the
        ${list.data.found} queues found so far: discovery stops at a bound of keys and of queues, so there may be more.</p>`
    }
    ${name && html`<${QueueDetail} key=${name} name=${name} writes=${writes} />`}`;
}

function QueueDetail({ name, writes }) {
  const detail = usePoll(() => get('queue', { name }), 1000, [name]);
  const [note, setNote] = useState(null);
  const act = async (path, body, done) => {
    try {
      const result = await post(`api/queue/${path}`, { name, ...body });
      setNote(null);
      detail.reload();
      done?.(result);
    } catch (err) {
      setNote(err);
    }
  };
  const d = detail.data;
  const h = d?.history;
  const depth = useMemo(() => (h ? [h.at, h.depth] : [[], []]), [h]);
  const rate = useMemo(() => (h ? [h.at, h.completedPerSecond, h.failedPerSecond] : [[], [], []]), [h]);
  return html`<h2>Queue <code>${name}</code></h2>
    <${Problem} error=${detail.error ?? note} />
    ${
      d &&
      html`<div class="cards" data-testid="counts">
        ${['waiting', 'active', 'delayed', 'dead', 'completed', 'failed'].map(
          (k) => html`<div class="card" data-count=${k}><b>${d.counts[k]}</b><span>${k}</span></div>`,
        )}
        <div class="card"><b data-testid="paused">${d.counts.paused ? 'paused' : 'running'}</b><span>state</span></div>
      </div>
      ${
        writes &&
        html`<div class="row">
        ${
          d.counts.paused
            ? html`<button data-action="resume" onClick=${() => act('resume')}>Resume</button>`
            : html`<button class="danger" data-action="pause" onClick=${() => act('pause')}>Pause</button>`
        }
      </div>`
      }
      <div class="charts">
        <${Chart} testid="depth-chart" title="Depth (waiting + delayed + active)" data=${depth}
          series=${[{ label: 'jobs', stroke: '#2f6fed' }]} />
        <${Chart} testid="throughput-chart" title="Throughput (per second)" data=${rate}
          series=${[{ label: 'completed/s', stroke: '#12a150' }, { label: 'failed/s', stroke: '#d92d20' }]} />
      </div>
      <p class="muted">Sampled every ${formatMs(d.sampleEveryMs)} while the dashboard runs.</p>
      <${Jobs} name=${name} writes=${writes} act=${act} />
      <h2>Schedules</h2>
      <${Table} testid="schedules" rows=${d.schedules} empty="No schedule."
        columns=${[
          ['Id', (s) => html`<code>${s.id}</code>`],
          ['Cron', (s) => s.cron ?? '–'],
          ['Every', (s) => (s.everyMs === undefined ? '–' : formatMs(s.everyMs))],
          ['Next run', (s) => (s.nextRunAt ? new Date(s.nextRunAt).toLocaleString() : '–')],
        ]} />
      <h2>Limits</h2>
      <p class="mono">${Object.keys(d.limits).length ? JSON.stringify(d.limits) : 'none'}</p>`
    }`;
}

function Jobs({ name, writes, act }) {
  const [state, setState] = useState('waiting');
  const [offset, setOffset] = useState(0);
  const page = usePoll(() => get('queue/jobs', { name, state, offset, count: PAGE }), 1000, [
    name,
    state,
    offset,
  ]);
  const columns = [
    ['Id', (j) => html`<code>${j.id}</code>`],
    ['Attempts', (j) => `${j.attemptsMade}/${j.maxAttempts}`, 'num'],
    ['Error', (j) => j.lastError ?? j.deadReason ?? ''],
    ['Payload', (j) => html`<div class="clip mono">${JSON.stringify(j.payload)}</div>`],
  ];
  if (writes && state === 'dead') {
    columns.push([
      '',
      (j) => html`<span class="row">
        <button data-action="retry" onClick=${() => act('retry', { ids: [j.id] }, page.reload)}>Retry</button>
        <button class="danger" data-action="remove" onClick=${() => act('remove', { id: j.id }, page.reload)}>Remove</button>
      </span>`,
    ]);
  }
  const jobs = page.data?.jobs;
  return html`<h2>Jobs</h2>
    <div class="row">
      ${STATES.map(
        (s) => html`<button class=${s === state ? 'tab active' : 'tab'} data-state=${s}
          onClick=${() => {
            setState(s);
            setOffset(0);
          }}>${s}</button>`,
      )}
    </div>
    <${Problem} error=${page.error} />
    <${Table} testid="jobs" rows=${jobs} empty=${`No ${state} job.`} columns=${columns} />
    <div class="row">
      <button disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
      <span class="muted">${jobs?.length ? `${offset + 1}–${offset + jobs.length}` : ''}</span>
      <button disabled=${page.data?.nextOffset === undefined} onClick=${() => setOffset(page.data.nextOffset)}>Next</button>
    </div>`;
}
