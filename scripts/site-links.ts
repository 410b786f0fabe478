/**
 * Reads every page of the built site (docs-site/) as a file, no browser needed, and reports links
 * that open raw Markdown (a README that typedoc copied to media/ instead of rendering it as a page,
 * or an .md href it left as written) and relative links or images that reach no file of the site.
 * Used by check-site.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

function* htmlFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* htmlFiles(path);
    else if (entry.name.endsWith('.html')) yield path;
  }
}

const decode = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
/** The visible text of a link, for the message: tags dropped, spaces collapsed. */
const linkText = (html: string) =>
  decode(html.replace(/<[^>]*>/g, ''))
    .replace(/\s+/g, ' ')
    .trim();
/** The path of an href, without query and fragment. */
const pathOf = (href: string) => {
  const path = href.split(/[?#]/)[0] ?? '';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
};
/** An address of another site (https:, mailto:, protocol-relative), not a file of this one. */
const external = (href: string) => /^([a-z][a-z0-9+.-]*:|\/\/)/i.test(href);

export const isRawMarkdown = (href: string) => /\.(md|markdown)$/i.test(pathOf(href));

export interface LinkReport {
  problems: string[];
  pages: number;
  links: number;
}

/** Checks the links and images of every HTML page under `site`. */
export function checkLinks(site: string): LinkReport {
  const problems: string[] = [];
  let pages = 0;
  let links = 0;
  for (const file of htmlFiles(site)) {
    pages++;
    const page = relative(site, file);
    const html = readFileSync(file, 'utf8');
    const resolves = (target: string) => {
      const path = pathOf(target);
      if (path === '') return true; // a fragment of this page
      const absolute = path.startsWith('/') ? join(site, path) : join(dirname(file), path);
      return existsSync(absolute);
    };
    for (const [, rawHref = '', inner = ''] of html.matchAll(
      /<a\b[^>]*?\bhref="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g,
    )) {
      links++;
      const href = decode(rawHref);
      const text = linkText(inner);
      if (isRawMarkdown(href))
        problems.push(`${page}: link "${text}" opens raw Markdown (${href}), not a rendered page`);
      else if (!external(href) && !resolves(href))
        problems.push(`${page}: link "${text}" points to ${href}, which is not in the site`);
    }
    for (const [, rawSrc = ''] of html.matchAll(/<img\b[^>]*?\bsrc="([^"]*)"/g)) {
      const src = decode(rawSrc);
      if (!external(src) && !resolves(src)) problems.push(`${page}: image ${src} is not in the site`);
    }
  }
  // typedoc copies a linked file it does not render into media/; a Markdown file there is a page
  // some link opens raw, even if no HTML link above shows it (the navigation, the search index).
  const media = join(site, 'media');
  if (existsSync(media))
    for (const name of readdirSync(media))
      if (isRawMarkdown(name))
        problems.push(`media/${name}: a Markdown file copied into the site unrendered`);
  return { problems, pages, links };
}
