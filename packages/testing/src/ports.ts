import { createServer } from 'node:net';

/** Ports (and cluster bus ports) this process handed out, so concurrent starts never share one. */
const handedOut = new Set<number>();

/** Binds 127.0.0.1:port (0 = any) and closes again; resolves the port, or undefined if it is taken. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

/** A loopback port that was free a moment ago; callers retry if it is taken by the time they bind. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryBind(0);
    if (port === undefined || handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('Could not find a free loopback port');
}

/** A free loopback port whose cluster bus port (port + 10000) is free too, hence below 55000. */
export async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await tryBind(0);
    if (port === undefined || port >= 55000) continue;
    const bus = port + 10000;
    if (handedOut.has(port) || handedOut.has(bus) || (await tryBind(bus)) === undefined) continue;
    handedOut.add(port);
    handedOut.add(bus);
    return port;
  }
  throw new Error('Could not find a free loopback port pair for a cluster node');
}
