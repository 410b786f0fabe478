import { connect } from 'node:net';

/** Encodes one command as a RESP array of bulk strings. */
function encode(command: string[]): string {
  return `*${command.length}\r\n${command.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/**
 * Parses the reply at offset in buf: [reply, offset after it], or undefined if incomplete. Only what
 * the harness needs: status, error and integer lines verbatim, bulk strings as their payload, nulls
 * as '', and arrays as their elements one per line (SENTINEL GET-MASTER-ADDR-BY-NAME gives
 * 'host\nport'), so an array counts as one reply.
 */
function parseReply(buf: Buffer, offset = 0): [string, number] | undefined {
  const eol = buf.indexOf('\r\n', offset);
  if (eol < 0) return undefined;
  const head = buf.toString('utf8', offset, eol);
  const length = Number(head.slice(1));
  if (head.startsWith('*')) {
    const items: string[] = [];
    let next = eol + 2;
    for (let i = 0; i < length; i++) {
      const item = parseReply(buf, next);
      if (item === undefined) return undefined;
      items.push(item[0]);
      next = item[1];
    }
    return [items.join('\n'), next];
  }
  if (!head.startsWith('$')) return [head, eol + 2];
  if (length < 0) return ['', eol + 2];
  const end = eol + 2 + length;
  if (buf.length < end + 2) return undefined;
  return [buf.toString('utf8', eol + 2, end), end + 2];
}

/** The value of `name:value` in an INFO or CLUSTER INFO reply, or undefined if absent. */
export function infoField(text: string, name: string): string | undefined {
  return new RegExp(`^${name}:(\\S*)`, 'm').exec(text)?.[1];
}

/**
 * Pipelines commands over a fresh connection to 127.0.0.1:port and resolves their replies. A raw
 * socket rather than a client library: no reconnect logic to fight while a server is starting.
 */
export function sendCommands(port: number, commands: string[][], timeoutMs = 1000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const replies: string[] = [];
    let buffer = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`No reply from 127.0.0.1:${port} within ${timeoutMs} ms`));
    });
    socket.once('error', reject);
    // A server that closes the connection early (crash, shutdown) must not leave us waiting.
    socket.once('close', () => reject(new Error(`Connection to 127.0.0.1:${port} closed before replying`)));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let parsed = parseReply(buffer); parsed; parsed = parseReply(buffer)) {
        replies.push(parsed[0]);
        buffer = buffer.subarray(parsed[1]);
      }
      if (replies.length >= commands.length) {
        socket.destroy();
        resolve(replies);
      }
    });
    socket.write(commands.map(encode).join(''));
  });
}

/** Sends one command, authenticating first when a password is given; resolves the command's reply. */
export async function sendCommand(
  port: number,
  command: string[],
  password?: string,
  timeoutMs?: number,
): Promise<string> {
  const commands = password === undefined ? [command] : [['AUTH', password], command];
  const replies = await sendCommands(port, commands, timeoutMs);
  return replies.at(-1) ?? '';
}
