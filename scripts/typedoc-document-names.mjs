// @ts-check
// A typedoc plugin (typedoc.json `plugin`): names the site's pages for the README files it renders
// (examples/*/README.md, examples/README.md) after their folder, so the navigation reads
// "Examples > cron-lock" rather than "examples > cron-lock/README". typedoc names a project document
// after its path unless the file's front matter has a `title`; those READMEs have none, because on
// GitHub a title line would show as text. A document with a title keeps it.
//
// Plain JavaScript: typedoc imports plugins with Node, which runs no TypeScript on Node 20.
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Converter } from 'typedoc';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DOCUMENT, (_context, document) => {
    const file = document.project.files.getReflectionPath(document);
    if (file === undefined) return;
    const path = relative(root, file).replace(/\\/g, '/').replace(/\.md$/i, '');
    // Untitled: typedoc used the path (relative to the documents' common folder) as the name.
    if (!path.endsWith(document.name) || !/(^|\/)README$/i.test(path)) return;
    const name = path.replace(/\/?README$/i, '') || 'README';
    document.name = name.charAt(0).toUpperCase() + name.slice(1);
  });
}
