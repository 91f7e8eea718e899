// What a first visit to a page costs, in bytes on the wire as a browser asking for brotli
// gets them: the HTML, then every asset it loads (stylesheet, JS, wasm, and any other
// same-origin file named by a `src` or a preload). The live-updates stream (/events) stays
// open for as long as the page does and is not counted. Issue #13's budget: `/` under
// 250,000 bytes.
//   node scripts/first-visit.mjs http://127.0.0.1:8080/
// `make first-visit` starts the demo and runs it.

import http from 'node:http';
import { brotliDecompressSync } from 'node:zlib';

/** The response's status, headers and body as sent (not decompressed). */
function get(url, acceptLanguage) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'accept-encoding': 'br', 'accept-language': acceptLanguage } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** The same-origin files the page loads: stylesheets, scripts, preloads and what the inline
 * hydration script imports (`/pkg/…`). Links readers follow (`<a>`, alternates) are not loads. */
export function assetsOf(html) {
  const found = new Set();
  for (const m of html.matchAll(/<link\b[^>]*>/g)) {
    const tag = m[0];
    const rel = /\brel="([^"]*)"/.exec(tag)?.[1] ?? '';
    const href = /\bhref="([^"]*)"/.exec(tag)?.[1];
    if (href && /\b(stylesheet|preload|modulepreload|icon)\b/.test(rel)) found.add(href);
  }
  for (const m of html.matchAll(/<(?:script|img)\b[^>]*\bsrc="([^"]*)"/g)) found.add(m[1]);
  for (const m of html.matchAll(/['"](\/pkg\/[^'"]+)['"]/g)) found.add(m[1]);
  return [...found].filter((u) => u.startsWith('/') && !u.startsWith('//')).sort();
}

/** Each file of a first visit to `url` with its size as sent; throws on any failed load. */
export async function firstVisit(url, { acceptLanguage = 'fr-FR,fr;q=0.9' } = {}) {
  const page = await get(url, acceptLanguage);
  if (page.status !== 200) throw new Error(`${url}: HTTP ${page.status}`);
  const html = (page.headers['content-encoding'] === 'br' ? brotliDecompressSync(page.body) : page.body).toString('utf8');
  const files = [{ path: new URL(url).pathname, bytes: page.body.length, encoding: page.headers['content-encoding'] ?? 'identity' }];
  for (const asset of assetsOf(html)) {
    const res = await get(new URL(asset, url).href, acceptLanguage);
    if (res.status !== 200) throw new Error(`${asset}: HTTP ${res.status}`);
    files.push({ path: asset, bytes: res.body.length, encoding: res.headers['content-encoding'] ?? 'identity' });
  }
  return { files, total: files.reduce((sum, f) => sum + f.bytes, 0) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[2];
  if (!url) {
    console.error('usage: node scripts/first-visit.mjs http://HOST:PORT/');
    process.exit(2);
  }
  const { files, total } = await firstVisit(url);
  for (const f of files) console.log(`${f.path}: ${f.bytes.toLocaleString('en')} B (${f.encoding})`);
  console.log(`first visit to ${new URL(url).pathname}: ${total.toLocaleString('en')} B as sent (budget 250,000 B)`);
}
