// The app bench's table and its "fleet capacity" lines.
import { fixed, integer, markdown } from '../report.ts';
import type { StackName } from './stacks.ts';

/** One route, one stack, one round (or the median round). */
export interface AppResult {
  route: string;
  stack: StackName;
  connections: number;
  round: number;
  /** 2xx responses in the window. */
  requests: number;
  /**
   * Requests the app received in the window, those left in flight at its end included (the
   * counters close after they are served): the divisor of the per-request costs.
   */
  served: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** The app process's CPU (user + system) per request, µs. */
  appCpuUsPerReq: number;
  /** redis-server's CPU (`used_cpu_user` + `used_cpu_sys`) per request, µs. */
  redisCpuUsPerReq: number;
  /** Commands Redis executed per request (INFO commandstats: scripts' inner commands included). */
  commandsPerReq: number;
  /** From the MONITOR window: commands the app sent per request, and commands its scripts ran. */
  sentPerReq?: number;
  inScriptsPerReq?: number;
  failures: number;
}

const find = (results: AppResult[], route: string, stack: StackName) =>
  results.find((r) => r.route === route && r.stack === stack);

/**
 * The median over rounds of `stack`'s req/s over `other`'s in the same round: a slow spell of the
 * machine hits both apps of a round, so pairing them steadies the ratio.
 */
function pairedRatio(rounds: AppResult[], route: string, stack: StackName, other: StackName): string {
  const ratios: number[] = [];
  for (const a of rounds.filter((r) => r.route === route && r.stack === stack)) {
    const b = rounds.find((r) => r.route === route && r.stack === other && r.round === a.round);
    if (b) ratios.push(a.reqPerSec / b.reqPerSec);
  }
  ratios.sort((x, y) => x - y);
  const middle = ratios[Math.floor((ratios.length - 1) / 2)];
  return middle === undefined ? '' : `${middle.toFixed(2)}x`;
}

/**
 * The table: a row per route and stack (its median round), with ours/peers and each stack/none in
 * req/s as the median of the per-round ratios (`rounds`: every round's results).
 */
export function formatAppTable(results: AppResult[], rounds: AppResult[]): string {
  const header = [
    'route',
    'stack',
    'conns',
    'req/s',
    'p50 ms',
    'p99 ms',
    'app µs/req',
    'Redis µs/req',
    'cmds run/req',
    'MONITOR: sent + in scripts /req',
    'vs peers',
    'vs none',
  ];
  const body = results.map((r) => {
    const monitor =
      r.sentPerReq === undefined ? 'n/a' : `${fixed(r.sentPerReq, 2)} + ${fixed(r.inScriptsPerReq, 2)}`;
    return [
      r.route,
      r.stack,
      String(r.connections),
      integer.format(r.reqPerSec),
      fixed(r.p50Ms, 2),
      fixed(r.p99Ms, 2),
      fixed(r.appCpuUsPerReq, 1),
      r.stack === 'none' ? '-' : fixed(r.redisCpuUsPerReq, 1),
      fixed(r.commandsPerReq, 2),
      monitor,
      r.stack === 'ours' ? pairedRatio(rounds, r.route, 'ours', 'peers') : '',
      r.stack === 'none' ? '' : pairedRatio(rounds, r.route, r.stack, 'none'),
    ];
  });
  return markdown(header, body, 2);
}

/** Requests per second one Redis core can serve at this route's Redis CPU per request. */
export const fleetCapacity = (redisCpuUs: number) => 1e6 / redisCpuUs;

/** Per route: `1 Redis core serves N req/s: ours X, peers Y (ours/peers Z)`. */
export function formatFleetLines(results: AppResult[]): string {
  const routes = [...new Set(results.map((r) => r.route))];
  return routes
    .map((route) => {
      const ours = find(results, route, 'ours');
      const peers = find(results, route, 'peers');
      if (!ours || !peers) return '';
      const [x, y] = [fleetCapacity(ours.redisCpuUsPerReq), fleetCapacity(peers.redisCpuUsPerReq)];
      return `- ${route}: 1 Redis core serves ${integer.format(x)} req/s with ours, ${integer.format(y)} with the peers' stack (ours/peers ${(x / y).toFixed(2)})`;
    })
    .filter(Boolean)
    .join('\n');
}

/** The middle value (the lower middle one for an even count). */
function middle(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] as number;
}

/**
 * A row's median over its rounds, column by column: the round with the median req/s, with the
 * median of each latency and CPU column (one slow spell of the shared VM moves one round's CPU per
 * request by half; it then moves no column of the row).
 */
export function median(list: AppResult[]): AppResult {
  const round = list.find((r) => r.reqPerSec === middle(list.map((r) => r.reqPerSec))) as AppResult;
  return {
    ...round,
    p50Ms: middle(list.map((r) => r.p50Ms)),
    p99Ms: middle(list.map((r) => r.p99Ms)),
    appCpuUsPerReq: middle(list.map((r) => r.appCpuUsPerReq)),
    redisCpuUsPerReq: middle(list.map((r) => r.redisCpuUsPerReq)),
    commandsPerReq: middle(list.map((r) => r.commandsPerReq)),
  };
}
