import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Where the screenshots go: `<repo>/dashboard-screenshots/`, kept by CI as artifacts. */
export const SHOTS = fileURLToPath(new URL('../../../dashboard-screenshots/', import.meta.url));

/** Debian's Chromium, headless, with a fresh profile removed on close. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`No Chromium at ${executablePath}: apt-get install -y chromium, or set CHROMIUM.`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'rp-dashboard-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    timeout: 20_000,
  });
  context.setDefaultTimeout(8000);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Collects what a page would show as a problem: uncaught errors and console errors (CSP violations among them). */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // A 401/403 the test asks for shows as a failed resource; anything else is a problem.
    if (msg.type() === 'error' && !/status of 40[13]/.test(msg.text()))
      problems.push(`console: ${msg.text()}`);
  });
  return problems;
}

/** Saves a full-page screenshot as `<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Serves `handler` on a free loopback port. */
export async function serve(handler: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One raw HTTP exchange, with any headers (fetch would not let a test forge Host), and any path. */
export function raw(
  url: string,
  {
    method = 'GET',
    headers = {},
    body,
    path,
  }: { method?: string; headers?: Record<string, string>; body?: string; path?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  // `path` goes out byte for byte: a URL string would have its dot segments resolved by the client.
  const parsed = new URL(url);
  const target = {
    hostname: parsed.hostname,
    port: parsed.port,
    path: path ?? parsed.pathname + parsed.search,
  };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Logs in with `token` and returns the cookie and the page's CSRF value. */
export async function login(base: string, token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await raw(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${res.body}`);
  const cookie = String(res.headers['set-cookie']).split(';')[0] as string;
  const me = await raw(`${base}/api/me`, { headers: { cookie } });
  return { cookie, csrf: JSON.parse(me.body).csrf };
}
