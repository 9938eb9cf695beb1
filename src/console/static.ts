/**
 * The page's files: plain HTML, CSS and ES modules in src/console/web, served as they are (no
 * browser build). The folder is found from this module's own location, which is the same
 * for src/console (tests) and dist/console (the package and the image both ship
 * src/console/web).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'console', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The files the page is made of, by URL path. Anything else is a 404: no directory walking. */
const WEB_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/console.css': 'console.css',
  '/app.js': 'app.js',
  '/table.js': 'table.js',
  '/api.js': 'api.js',
  '/favicon.svg': 'favicon.svg',
};

export interface WebFile {
  body: Buffer;
  type: string;
}

export async function loadWebFiles(dir = WEB_DIR): Promise<Map<string, WebFile>> {
  const out = new Map<string, WebFile>();
  for (const [path, file] of Object.entries(WEB_FILES)) {
    const ext = file.slice(file.lastIndexOf('.'));
    out.set(path, { body: await readFile(join(dir, file)), type: TYPES[ext] ?? 'application/octet-stream' });
  }
  return out;
}
