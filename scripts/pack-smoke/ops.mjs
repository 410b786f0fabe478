// Runs in a fresh project where only the packed tarballs and `redis` are installed.
import { run } from '@redis-patterns/ops';

let output = '';
const stderr = { write: (chunk) => process.stderr.write(chunk) };
const code = await run(['--json', '--url', process.env.REDIS_URL, 'status'], {
  stdout: { write: (chunk) => (output += chunk) },
  stderr,
});
if (code !== 0) throw new Error(`status exited ${code}`);
const status = JSON.parse(output);
const usage = await run(['queue', 'frobnicate'], {
  stdout: { write: () => {} },
  stderr: { write: () => {} },
});
if (!Array.isArray(status.queues) || usage !== 2) {
  throw new Error(`usage error exited ${usage}; status printed ${output}`);
}
console.log(`status read ${Object.keys(status).length - 1} sections; a usage error exits 2`);
