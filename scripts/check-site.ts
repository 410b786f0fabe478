/**
 * Opens the built typedoc site (docs-site/) in headless Chromium, the way a reader would: the index,
 * the package list and every package page. Fails on console errors, page errors, missing pages or
 * broken internal links, and saves a screenshot of each page to docs-site-screenshots/.
 *   pnpm run docs && pnpm check:site          (CHROMIUM=/path/to/chromium to override the browser)
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const site = join(root, 'docs-site');
const shots = join(root, 'docs-site-screenshots');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(join(site, 'index.html')))
  throw new Error('docs-site/index.html is missing: run `pnpm run docs` first.');
if (!existsSync(executablePath))
  throw new Error(`No Chromium at ${executablePath}: apt-get install -y chromium, or set CHROMIUM.`);
mkdirSync(shots, { recursive: true });

const types: Record<string, string> = {
  '.html': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
};
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
    /^(\.\.[/\\])+/,
    '',
  );
  // Browsers ask for /favicon.ico on their own; typedoc ships none, and its absence is not a broken page.
  if (path === '/favicon.ico') {
    res.writeHead(204).end();
    return;
  }
  let file = join(site, path);
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!file.startsWith(site) || !existsSync(file)) {
    res.writeHead(404).end('not found');
    return;
  }
  res
    .writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
    .end(readFileSync(file));
});
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const problems: string[] = [];
const browser = await chromium.launch({
  executablePath,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on(
    'console',
    (msg) => msg.type() === 'error' && problems.push(`console error on ${page.url()}: ${msg.text()}`),
  );
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
  page.on(
    'response',
    (res) =>
      res.url().startsWith(base) && res.status() >= 400 && problems.push(`${res.status()} for ${res.url()}`),
  );

  const visit = async (path: string, shot: string) => {
    const response = await page.goto(`${base}/${path}`, { waitUntil: 'networkidle' });
    if (response === null || !response.ok()) problems.push(`${path}: HTTP ${response?.status()}`);
    await page.screenshot({ path: join(shots, `${shot}.png`), fullPage: false });
    return page.$$eval('a[href]', (links) => links.map((a) => (a as HTMLAnchorElement).href));
  };

  const indexLinks = await visit('index.html', 'index');
  const moduleLinks = await visit('modules.html', 'modules');
  // Package pages: what the package list links to (one page per package in packages mode).
  const packagePages = [
    ...new Set(
      moduleLinks
        .filter((href) => href.startsWith(`${base}/modules/`))
        .map((href) => href.split('#')[0] as string),
    ),
  ];
  const internal = new Set(
    [...indexLinks, ...moduleLinks].filter((h) => h.startsWith(base)).map((h) => h.split('#')[0] as string),
  );
  for (const url of packagePages) {
    const name = url.slice(url.lastIndexOf('/') + 1).replace(/\.html$/, '');
    for (const href of await visit(url.slice(base.length + 1), `package-${name}`))
      if (href.startsWith(base)) internal.add(href.split('#')[0] as string);
  }
  // Project documents (the benchmarks page with its charts): rendered like a package page.
  const documents = [...internal].filter((url) => url.startsWith(`${base}/documents/`));
  for (const url of documents) {
    const name = url.slice(url.lastIndexOf('/') + 1).replace(/\.html$/, '');
    await visit(url.slice(base.length + 1), `document-${name}`);
    const broken = await page.$$eval('img', (imgs) =>
      imgs
        .filter((img) => !(img as HTMLImageElement).complete || (img as HTMLImageElement).naturalWidth === 0)
        .map((img) => (img as HTMLImageElement).src),
    );
    for (const src of broken) problems.push(`image did not load on ${url}: ${src}`);
  }
  // Every internal link of those pages resolves (HTTP only: rendering each would be slow and adds nothing).
  for (const url of internal) {
    const res = await fetch(url);
    if (!res.ok) problems.push(`broken link ${url}: HTTP ${res.status}`);
  }
  console.log(
    `Visited index, package list, ${packagePages.length} package page(s) and ${documents.length} document(s); checked ${internal.size} internal links; screenshots in docs-site-screenshots/.`,
  );
} finally {
  await browser.close();
  server.close();
}
if (problems.length > 0) {
  console.error(`\n${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('Site check passed.');
