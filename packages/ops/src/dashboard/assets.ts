import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file the page loads: its bytes and content type. */
export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The page's own files, next to this module (copied beside the built one). */
const UI_FILES = ['index.html', 'app.css', 'app.js', 'api.js', 'queues.js', 'tabs.js', 'chart.js'];

/**
 * Where the libraries the page uses come from: installed packages, resolved from this package
 * (their entry points are not the browser builds, so the path goes from the package's folder).
 */
function vendorFiles(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const htm = dirname(dirname(require.resolve('htm')));
  const uplot = dirname(require.resolve('uplot'));
  return {
    // Preact, its hooks and htm in one ES module: no import map, so no inline script.
    'vendor/preact.js': join(htm, 'preact', 'standalone.module.js'),
    'vendor/uplot.js': join(uplot, 'uPlot.esm.js'),
    'vendor/uplot.css': join(uplot, 'uPlot.min.css'),
  };
}

/** Every file the dashboard serves, by path under its mount point, read once. */
export function loadAssets(): Map<string, Asset> {
  const ui = fileURLToPath(new URL('./ui/', import.meta.url));
  const files: Record<string, string> = Object.fromEntries(UI_FILES.map((name) => [name, join(ui, name)]));
  Object.assign(files, vendorFiles());
  const assets = new Map<string, Asset>();
  for (const [path, file] of Object.entries(files)) {
    const ext = file.slice(file.lastIndexOf('.') + 1);
    assets.set(path, { body: readFileSync(file), type: TYPES[ext] ?? 'application/octet-stream' });
  }
  assets.set('', assets.get('index.html') as Asset);
  return assets;
}
