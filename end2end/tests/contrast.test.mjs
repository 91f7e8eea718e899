// WCAG 2.1 AA contrast in a real browser: every visible piece of text on the public pages and
// every staff console page (signed in as an admin: incidents, a new incident and its preview,
// an incident, maintenance, account, team, tokens, audit log), in the light and the dark theme, against the background it is actually
// drawn on (the nearest opaque ancestor, translucent layers composited), with the colours
// Chromium computed from the stylesheet, one site up and one down. Normal text needs 4.5:1,
// large text 3:1.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addStaff, launchChromium, signIn, startVigie } from '../harness.mjs';

const EMAIL = 'admin@humanoid.test';
const PASSWORD = 'correct-horse-battery-staple';

let site;
let dir;
let vigie;
let chromium;

// One site up and one down (a closed port), so the status colours of both are on the page.
before(async () => {
  site = createServer((_, res) => res.end('<!DOCTYPE html><title>ok</title>'));
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const closed = createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = closed.address().port;
  await new Promise((r) => closed.close(r));
  dir = mkdtempSync(path.join(tmpdir(), 'vigie-contrast-'));
  const config = path.join(dir, 'vigie.toml');
  const service = (id, name, target) => `
[[services]]
id = "${id}"
name = "${name}"
group = "sites"

[[services.monitors]]
id = "home"
kind = "http"
target = "${target}"
interval = "1s"
timeout = "1s"
`;
  writeFileSync(
    config,
    `[site]
title = "Humanoid"
default_locale = "fr"
timezone = "Europe/Paris"

[[groups]]
id = "sites"
name = "Sites"
` +
      service('frandroid', 'FrAndroid', `http://127.0.0.1:${site.address().port}/`) +
      service('forum', 'Forum', `http://127.0.0.1:${closedPort}/`),
  );
  // An admin, made with the CLI on the database the server will use, sees every console page.
  const database = `sqlite://${path.join(dir, 'vigie.db')}?mode=rwc`;
  addStaff({ config, database, dir, email: EMAIL, role: 'admin', password: PASSWORD });
  vigie = await startVigie({ config, args: ['--database-url', database] });
  chromium = await launchChromium();
  // Wait until the engine has called one up and the other down.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const html = await (await fetch(vigie.base + '/')).text();
    if (html.includes('data-status="major_outage"') && html.includes('data-status="operational"')) break;
    if (Date.now() > deadline) throw new Error('the engine never called the sites up and down');
    await new Promise((r) => setTimeout(r, 250));
  }
});

after(async () => {
  await chromium?.close();
  await vigie?.stop();
  site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs in the page: the text elements below AA contrast, described. */
function lowContrast() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(',').map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const channel = (v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ({ r, g, b }) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const backgroundOf = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let out = { r: 255, g: 255, b: 255 };
    for (const c of layers.reverse()) {
      out = { r: c.r * c.a + out.r * (1 - c.a), g: c.g * c.a + out.g * (1 - c.a), b: c.b * c.a + out.b * (1 - c.a) };
    }
    return out;
  };
  const found = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || seen.has(el)) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    // Only what is drawn: not hidden, not a closed tooltip, not the visually-hidden skip link.
    if (style.visibility === 'hidden' || el.getClientRects().length === 0) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;
    const fg = parse(style.color);
    const bg = backgroundOf(el);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight, 10) >= 700 && size >= 18.66);
    const need = large ? 3 : 4.5;
    if (ratio < need) {
      found.push(`${ratio.toFixed(2)}:1 < ${need}:1 — <${el.tagName.toLowerCase()}> "${text.slice(0, 40)}" ${style.color} on rgb(${[bg.r, bg.g, bg.b].map(Math.round)})`);
    }
  }
  return found;
}

const PAGES = ['/', '/services/frandroid', '/history', '/maintenance', '/admin/login'];
const CONSOLE = ['/admin/incidents', '/admin/incidents/new', '/admin/maintenance', '/admin/account', '/admin/users', '/admin/tokens', '/admin/audit'];
let incidentPath; // made once, by the first theme's run

for (const scheme of ['light', 'dark']) {
  test(`text meets WCAG AA contrast in the ${scheme} theme`, async () => {
    const context = await chromium.browser.newContext({ colorScheme: scheme, locale: 'fr-FR' });
    const page = await context.newPage();
    // The measure itself: a grey that every reader would find too pale is caught.
    await page.setContent('<p style="color:#aaa;background:#fff">trop pâle</p>');
    assert.equal((await page.evaluate(lowContrast)).length, 1, 'the check sees low contrast');
    const problems = [];
    for (const path of PAGES) {
      await page.goto(vigie.base + path);
      // The theme's colours are applied before paint (prefers-color-scheme and the head script).
      const found = await page.evaluate(lowContrast);
      problems.push(...found.map((f) => `${path}: ${f}`));
    }
    await signIn(page, vigie.base, EMAIL, PASSWORD);
    if (!incidentPath) {
      await page.goto(vigie.base + '/admin/incidents/new');
      await page.fill('input[name="title"]', 'Forum inaccessible');
      await page.selectOption('select[name="service:forum"]', 'major_outage');
      await Promise.all([page.waitForURL(/\/admin\/incidents\/\d+$/), page.click('button[value="publish"]')]);
      incidentPath = new URL(page.url()).pathname;
    }
    for (const path of [...CONSOLE, incidentPath]) {
      await page.goto(vigie.base + path);
      const found = await page.evaluate(lowContrast);
      problems.push(...found.map((f) => `${path}: ${f}`));
    }
    // The preview (the public page's own rendering) and an error next to its field.
    await page.goto(vigie.base + '/admin/incidents/new');
    await page.fill('input[name="title"]', 'Aperçu');
    await page.click('button[value="preview"]');
    await page.waitForSelector('.preview');
    problems.push(...(await page.evaluate(lowContrast)).map((f) => `preview: ${f}`));
    await page.fill('textarea[name="message"]', "L'équipe [nom]");
    await page.click('button[value="publish"]');
    await page.waitForSelector('.field-error');
    problems.push(...(await page.evaluate(lowContrast)).map((f) => `refused form: ${f}`));
    assert.deepEqual(problems, []);
    await context.close();
  });
}
