// A throwaway redis-server on a free loopback port, for scripts that run code against Redis
// (the snippet checker, the install check). Never touches a Redis it did not start.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const READY_TIMEOUT_MS = 10_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Sends one command in RESP and resolves with its reply: the line of a simple reply ("+OK"),
 * or the text of a bulk string.
 */
export function command(port, args, timeoutMs = 2_000) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(
      () => socket.destroy(new Error(`${args[0]} timed out on port ${port}`)),
      timeoutMs,
    );
    let reply = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      reply = Buffer.concat([reply, chunk]);
      const end = reply.indexOf('\r\n');
      if (end < 0) return;
      let value = reply.subarray(0, end).toString();
      if (value.startsWith('$') && value !== '$-1') {
        const length = Number(value.slice(1));
        if (reply.length < end + 2 + length) return;
        value = reply.subarray(end + 2, end + 2 + length).toString();
      }
      clearTimeout(timer);
      socket.end();
      resolve(value);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

/**
 * Starts redis-server (persistence off, in a temp dir) and resolves once it answers PING:
 * `{ port, url, flushAll(), stop() }`. A port taken between the probe and the start is retried.
 */
export async function startRedisServer() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'redis-patterns-snippets-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn('redis-server', [...args, '--dir', dir], { stdio: 'ignore' });
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    child.on('error', () => {
      exited = true; // no redis-server binary: reported below
    });
    const kill = () => child.kill('SIGKILL');
    process.on('exit', kill);
    const stop = async () => {
      process.off('exit', kill);
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(3_000).then(kill)]);
      }
      rmSync(dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      // Ours only if INFO shows our pid: a server someone started on the port since the probe is not.
      const info = await command(port, ['INFO', 'server'], 500).catch(() => '');
      if (info.includes(`process_id:${child.pid}\r\n`))
        return {
          port,
          url: `redis://127.0.0.1:${port}`,
          flushAll: async () => {
            const reply = await command(port, ['FLUSHALL']);
            if (reply !== '+OK') throw new Error(`FLUSHALL on port ${port} answered ${reply}`);
          },
          stop,
        };
      await sleep(50);
    }
    await stop();
    if (attempt >= 3)
      throw new Error('redis-server did not start on a free port (is redis-server installed?)');
  }
}
