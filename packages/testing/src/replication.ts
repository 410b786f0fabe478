import { infoField, sendCommand } from './resp.ts';

/** A server's own account of its replication (INFO replication). */
export interface ReplicationState {
  /** `master` or `slave`, as Redis spells it. */
  role: string | undefined;
  /** A replica's master port; undefined on a master. */
  masterPort: number | undefined;
  /** A replica's master_link_status is up. */
  linkUp: boolean;
}

/** Parses an INFO replication reply. */
export function parseReplication(info: string): ReplicationState {
  const role = infoField(info, 'role');
  const port = infoField(info, 'master_port');
  return {
    role,
    masterPort: port === undefined ? undefined : Number(port),
    linkUp: infoField(info, 'master_link_status') === 'up',
  };
}

/** Asks the server on 127.0.0.1:port for its replication state. */
export async function readReplication(port: number, password?: string): Promise<ReplicationState> {
  return parseReplication(await sendCommand(port, ['INFO', 'replication'], password));
}

/** One line for error messages: `6380: slave of 6379 link up`. */
export function describeReplication(port: number, state: ReplicationState): string {
  const link = state.role === 'slave' ? ` of ${state.masterPort} link ${state.linkUp ? 'up' : 'down'}` : '';
  return `${port}: ${state.role ?? '?'}${link}`;
}
