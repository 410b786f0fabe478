/**
 * Opens the built typedoc site (docs-site/) in headless Chromium, the way a reader would: the index,
 * the package list, every package page and every document. Fails on console errors, page errors,
 * missing pages, broken internal links, any link in the site that opens raw Markdown (site-links.ts
 * reads every page for those), and any chart label drawn outside its SVG; saves a screenshot of each
 * page to docs-site-screenshots/.
 *   pnpm run docs && pnpm check:site          (CHROMIUM=/path/to/chromium to override the browser)
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { checkLinks } from './site-links.ts';

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
const links = checkLinks(site);
problems.push(...links.problems);

/**
 * Opens one chart SVG by itself and reports each text element whose box (as Chromium lays it out,
 * in the fonts it picked) reaches outside the SVG's viewBox: a label the reader sees cut.
 */
async function cutLabels(page: Page, url: string): Promise<string[]> {
  const response = await page.goto(url, { waitUntil: 'load' });
  if (response === null || !response.ok()) return [`chart ${url}: HTTP ${response?.status()}`];
  return page.evaluate(() => {
    const svg = document.documentElement as unknown as SVGSVGElement;
    const view = svg.viewBox.baseVal;
    const box =
      view !== null && view.width > 0
        ? { x: view.x, y: view.y, width: view.width, height: view.height }
        : { x: 0, y: 0, width: svg.width.baseVal.value, height: svg.height.baseVal.value };
    const slack = 0.5;
    return [...svg.querySelectorAll('text')].flatMap((text) => {
      const b = text.getBBox();
      const inside =
        b.x >= box.x - slack &&
        b.y >= box.y - slack &&
        b.x + b.width <= box.x + box.width + slack &&
        b.y + b.height <= box.y + box.height + slack;
      const at = `x ${b.x.toFixed(1)} to ${(b.x + b.width).toFixed(1)}, y ${b.y.toFixed(1)} to ${(b.y + b.height).toFixed(1)}`;
      const within = `${box.x} ${box.y} ${box.width} ${box.height}`;
      return inside ? [] : [`label "${text.textContent}" is cut: it spans ${at}, the viewBox is ${within}`];
    });
  });
}

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
  // Project documents (benchmarks with its charts, examples, migration guides): every one in
  // documents/, and any other the pages above link to.
  const documents = new Set([...internal].filter((url) => url.startsWith(`${base}/documents/`)));
  for (const name of readdirSync(join(site, 'documents')))
    if (name.endsWith('.html')) documents.add(`${base}/documents/${name}`);
  const charts = new Map<string, string>();
  for (const url of documents) {
    const name = url.slice(url.lastIndexOf('/') + 1).replace(/\.html$/, '');
    await visit(url.slice(base.length + 1), `document-${name}`);
    const images = await page.$$eval('img', (imgs) =>
      imgs.map((img) => ({
        src: (img as HTMLImageElement).src,
        loaded: (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0,
      })),
    );
    for (const { src, loaded } of images) {
      if (!loaded) problems.push(`image did not load on ${url}: ${src}`);
      else if (src.startsWith(base) && src.endsWith('.svg')) charts.set(src, url.slice(base.length + 1));
    }
  }
  if (charts.size === 0) problems.push('no chart SVG on any document page: no label was checked');
  for (const [svg, onPage] of charts)
    for (const problem of await cutLabels(page, svg))
      problems.push(`${onPage}, chart ${svg.slice(base.length + 1)}: ${problem}`);
  // Every internal link of those pages resolves (HTTP only: rendering each would be slow and adds nothing).
  for (const url of internal) {
    const res = await fetch(url);
    if (!res.ok) problems.push(`broken link ${url}: HTTP ${res.status}`);
  }
  console.log(
    `Visited index, package list, ${packagePages.length} package page(s) and ${documents.size} document(s); checked ${internal.size} internal links by HTTP, ${links.links} links in ${links.pages} pages for raw Markdown and missing files, and the labels of ${charts.size} chart(s); screenshots in docs-site-screenshots/.`,
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
