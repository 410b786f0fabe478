export { assertBuilt, type Child, type ChildExit, type StartChildOptions, startChild } from './children.ts';
export { type RedisCluster, type RedisClusterNode, startCluster } from './cluster.ts';
export {
  type ClusterRoles,
  type FailOverSlotOptions,
  failOverSlot,
  masterForKey,
  refreshClusterRoles,
  type SlotFailover,
} from './cluster-failover.ts';
export { type CommandSender, commandsRun, scriptsIn } from './command-stats.ts';
export {
  type ConformanceConnection,
  type ConformanceConnectOptions,
  type ConformanceSubject,
  describeConformance,
} from './conformance.ts';
export {
  type DrillOptions,
  type DrillReport,
  type FailoverTarget,
  failoverDrill,
  startFailoverTarget,
} from './drill.ts';
export { untilAnswers } from './faults.ts';
// Brings the ProvidedContext augmentation ('redisUrls', 'clusterRootNodeSets') to every importer's types.
export type {} from './global-setup.ts';
export { freePort } from './ports.ts';
export { uniquePrefix } from './prefix.ts';
export { seededRandom } from './random.ts';
export { type RedisSentinelHandle, startSentinel } from './sentinel.ts';
export {
  type RedisSentinelGroup,
  type SentinelFailover,
  type SentinelFailoverOptions,
  type SentinelGroupOptions,
  startSentinelGroup,
} from './sentinel-group.ts';
export { type RedisServer, type StartRedisOptions, startRedis } from './server.ts';
export { type Topology, topologies } from './topologies.ts';
