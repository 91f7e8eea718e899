// The public overview in a real browser: every service listed, hydration working, readable
// with JavaScript off, both languages, and no console error or failed request.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, root, serviceNames, startVigie, watchProblems } from '../harness.mjs';

let vigie;
let chromium;

before(async () => {
  vigie = await startVigie();
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  await vigie?.stop();
});

const names = serviceNames(readFileSync(path.join(root, 'config/humanoid.toml'), 'utf8'));

test('the catalog has the Humanoid sites', () => {
  for (const site of ['FrAndroid', 'appXoid', 'LesArdoises', 'Android Bundle', 'FraWin', 'Mobs', 'Forum']) {
    assert.ok(names.includes(site), `${site} in config/humanoid.toml`);
  }
});

// A French reader: Chromium's own default language would be English.
async function frenchPage(options = {}) {
  const context = await chromium.browser.newContext({ locale: 'fr-FR', ...options });
  return { context, page: await context.newPage() };
}

test('overview lists every service, hydrates, and groups collapse', async () => {
  const { context, page } = await frenchPage();
  const problems = watchProblems(page);
  await page.goto(vigie.base + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.title(), 'Humanoid — état des services');

  const listed = await page.locator('.service .service-name').allTextContents();
  assert.deepEqual([...listed].sort(), [...names].sort());
  const statuses = await page.locator('.service').evaluateAll((els) => els.map((e) => e.dataset.status));
  assert.ok(statuses.every((s) => s === 'no_data'), `no probe data yet is never green: ${statuses}`);

  // The toggle is disabled in the server HTML and enabled once the wasm has hydrated the page.
  const toggle = page.locator('#group-sites-title button');
  await toggle.waitFor();
  await page.waitForFunction(() => !document.querySelector('#group-sites-title button').disabled, null, {
    timeout: 20_000,
  });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.locator('#group-sites').isHidden(), true);
  await toggle.press('Enter');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  assert.equal(await page.locator('#group-sites').isVisible(), true);

  // The relative clock ticks only in the hydrated page.
  await page.waitForFunction(
    () => /il y a \d+ s/.test(document.querySelector('.updated-clock').textContent),
    null,
    { timeout: 15_000 },
  );

  assert.deepEqual(problems, []);
  await context.close();
});

test('page is complete with JavaScript disabled', async () => {
  const { context, page } = await frenchPage({ javaScriptEnabled: false });
  await page.goto(vigie.base + '/');
  const listed = await page.locator('.service .service-name').allTextContents();
  assert.equal(listed.length, names.length);
  assert.match(await page.locator('.banner-text').textContent(), /En attente des premiers résultats/);
  assert.equal(await page.locator('.status-text').first().textContent(), 'Aucune donnée');
  await context.close();
});

test('English through ?lang=en and through Accept-Language', async () => {
  const page = await chromium.browser.newPage();
  const problems = watchProblems(page);
  await page.goto(vigie.base + '/?lang=en');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.locator('.status-text').first().textContent(), 'No data');
  await page.waitForFunction(() => !document.querySelector('.group-toggle').disabled, null, { timeout: 20_000 });
  assert.deepEqual(problems, []);
  await page.close();

  const context = await chromium.browser.newContext({ locale: 'en-GB' });
  const english = await context.newPage();
  await english.goto(vigie.base + '/');
  assert.equal(await english.getAttribute('html', 'lang'), 'en');
  await context.close();
});
