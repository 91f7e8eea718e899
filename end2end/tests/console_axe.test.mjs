// Accessibility rules (axe-core, WCAG 2.1 A and AA) on every staff console page, signed in as
// an admin: the sign-in form, incidents, a new incident with its preview, a refused form with
// its errors, an incident, maintenance, account, team, API tokens and the audit log. The
// console's CSP allows no script, so the browser context bypasses CSP for the checker only.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addStaff, launchChromium, signIn, startVigie } from '../harness.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const EMAIL = 'admin@humanoid.test';
const PASSWORD = 'correct-horse-battery-staple';

let dir;
let vigie;
let chromium;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigie-axe-'));
  const config = path.join(dir, 'vigie.toml');
  writeFileSync(
    config,
    `[site]
title = "Humanoid"
default_locale = "fr"
timezone = "Europe/Paris"

[[groups]]
id = "sites"
name = "Sites"

[[services]]
id = "forum"
name = "Forum"
group = "sites"

[[services]]
id = "frandroid"
name = "FrAndroid"
group = "sites"
`,
  );
  const database = `sqlite://${path.join(dir, 'vigie.db')}?mode=rwc`;
  addStaff({ config, database, dir, email: EMAIL, role: 'admin', password: PASSWORD });
  vigie = await startVigie({ config, args: ['--database-url', database] });
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  await vigie?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The axe violations of the page as it is, one line each. */
async function violations(page) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  });
  return found;
}

test('every console page passes the WCAG A and AA rules of axe', async () => {
  const context = await chromium.browser.newContext({ locale: 'fr-FR', bypassCSP: true });
  const page = await context.newPage();
  // The checker itself: an unlabelled field is caught.
  await page.setContent('<main><input type="text"></main>');
  assert.ok((await violations(page)).some((v) => v.startsWith('label')), 'axe sees a missing label');

  const problems = [];
  const check = async (what) => problems.push(...(await violations(page)).map((v) => `${what}: ${v}`));
  await page.goto(vigie.base + '/admin/login');
  await check('/admin/login');
  await signIn(page, vigie.base, EMAIL, PASSWORD);

  await page.goto(vigie.base + '/admin/incidents/new');
  await page.fill('input[name="title"]', 'Forum inaccessible');
  await page.selectOption('select[name="service:forum"]', 'major_outage');
  await page.click('button[value="preview"]');
  await page.waitForSelector('.preview');
  await check('preview');
  await page.fill('input[name="title"]', '');
  await page.fill('textarea[name="message"]', "L'équipe [nom]");
  await page.click('button[value="publish"]', { noWaitAfter: true });
  // The browser's own required-field check stops an empty title: post with a title instead.
  await page.fill('input[name="title"]', 'Forum inaccessible');
  await page.click('button[value="publish"]');
  await page.waitForSelector('.field-error');
  await check('refused form');
  await page.fill('textarea[name="message"]', 'Nous enquêtons.');
  await Promise.all([page.waitForURL(/\/admin\/incidents\/\d+$/), page.click('button[value="publish"]')]);
  const incident = new URL(page.url()).pathname;
  await check(`${incident} (with its confirmation)`);

  for (const p of ['/admin/incidents', '/admin/incidents/new', incident, '/admin/maintenance', '/admin/subscribers', '/admin/webhooks', '/admin/account', '/admin/users', '/admin/tokens', '/admin/audit']) {
    await page.goto(vigie.base + p);
    await check(p);
  }
  assert.deepEqual(problems, []);
  await context.close();
});
