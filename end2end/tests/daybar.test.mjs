// The 90-day bar and the service page in a real browser: a keyboard reaches a day segment
// and its tooltip shows; the service page is complete with JavaScript disabled, and its range
// switch works as plain links.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, startVigie, watchProblems } from '../harness.mjs';

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

async function frenchPage(options = {}) {
  const context = await chromium.browser.newContext({ locale: 'fr-FR', ...options });
  return { context, page: await context.newPage() };
}

test('Tab reaches a day segment and its tooltip becomes visible', async () => {
  const { context, page } = await frenchPage({ viewport: { width: 1200, height: 900 } });
  const problems = watchProblems(page);
  await page.goto(vigie.base + '/');
  // Hydrated: the group toggles are enabled.
  await page.waitForFunction(() => !document.querySelector('#group-sites-title button').disabled, null, {
    timeout: 20_000,
  });
  assert.equal(await page.locator('svg.day-bar').first().locator('.day').count(), 90);
  // `/` draws one tooltip per bar, only while a day is pointed at or focused.
  const tips = page.locator('.day-bar-wrap .day-tip');
  assert.equal(await tips.count(), 0, 'tooltips are hidden until asked for');

  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.classList?.contains('day') ?? false);
  }
  assert.ok(reached, 'a day segment takes keyboard focus');
  const focused = page.locator('svg.day-bar .day:focus');
  const date = await focused.getAttribute('data-date');
  assert.match(date, /^\d{4}-\d{2}-\d{2}$/);
  const bar = page.locator('.day-bar-wrap:focus-within');
  const tip = bar.locator('.day-tip');
  await tip.waitFor({ state: 'visible', timeout: 5_000 }); // the focused day shows its tooltip
  const text = await tip.innerText();
  const [y, m, d] = date.split('-').map(Number);
  // One date format per language (issue 15): the long month names.
  const months = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
  assert.ok(text.includes(`${d} ${months[m - 1]} ${y}`), `localised date in ${JSON.stringify(text)}`);
  assert.match(text, /Aucune donnée|%/, 'uptime or no data in words');
  // The tooltip says what the segment's title says.
  const title = await focused.locator('title').textContent();
  assert.ok(title.startsWith(`${d} ${months[m - 1]} ${y}`), title);
  // It sits over its day: its left edge within a segment of the focused one.
  const [tipBox, dayBox] = [await tip.boundingBox(), await focused.locator('rect').boundingBox()];
  assert.ok(Math.abs(tipBox.x - dayBox.x) < 2 * dayBox.width + 1, `${tipBox.x} near ${dayBox.x}`);
  // (The focused rect's box includes its 3 px focus stroke.)
  assert.ok(tipBox.y + tipBox.height <= dayBox.y + 3, `above the bar: ${JSON.stringify([tipBox, dayBox])}`);

  // The next Tab moves on to the next day and its tooltip replaces the previous one.
  await page.keyboard.press('Tab');
  const next = await page.evaluate(() => document.activeElement?.getAttribute('data-date'));
  assert.ok(next && next > date, `next day focused after ${date}: ${next}`);
  const [ny, nm, nd] = next.split('-').map(Number);
  await page.waitForFunction(
    (d) => document.querySelector('.day-bar-wrap:focus-within .day-tip')?.innerText.includes(d),
    `${nd} ${months[nm - 1]} ${ny}`,
    { timeout: 5_000 },
  );
  assert.equal(await tips.count(), 1, 'one tooltip at a time');
  // Escape closes it and leaves the focus where it was.
  await page.keyboard.press('Escape');
  await tips.first().waitFor({ state: 'detached', timeout: 5_000 }); // Escape closes the tooltip
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-date')), next);

  // Hover shows a day's tooltip too; leaving the bar brings back the focused day's.
  const other = page.locator('svg.day-bar').nth(1).locator(`.day[data-date="${date}"] rect`);
  await other.hover();
  const otherTip = page.locator('.day-bar-wrap').nth(1).locator('.day-tip');
  await otherTip.waitFor({ state: 'visible', timeout: 5_000 }); // hover shows the tooltip
  await page.mouse.move(5, 5);
  await otherTip.waitFor({ state: 'detached', timeout: 5_000 }); // leaving the bar closes it

  assert.deepEqual(problems, []);
  await context.close();
});

test('narrow screens show the last 30 days', async () => {
  const { context, page } = await frenchPage({ viewport: { width: 390, height: 800 } });
  await page.goto(vigie.base + '/');
  const bar = page.locator('svg.day-bar').first();
  const visible = await bar.locator('.day').evaluateAll((els) =>
    els.filter((e) => getComputedStyle(e).display !== 'none').length,
  );
  assert.equal(visible, 30);
  await context.close();
});

test('service page is complete with JavaScript disabled', async () => {
  const { context, page } = await frenchPage({ javaScriptEnabled: false });
  const res = await page.goto(vigie.base + '/services/frandroid');
  assert.equal(res.status(), 200);
  assert.equal(await page.title(), 'FrAndroid — Humanoid — état des services');
  assert.equal(await page.locator('h1').textContent(), 'FrAndroid');
  assert.ok((await page.locator('.service-header .status-text').textContent()).length > 0, 'status in words');
  const windows = await page.locator('.uptime-window dt').allTextContents();
  assert.deepEqual(windows, ['24 h', '7 jours', '30 jours', '90 jours']);
  assert.equal(await page.locator('.uptime-window dd').count(), 4);
  assert.equal(await page.locator('svg.chart').isVisible(), true, 'chart drawn by the server');
  assert.match(await page.locator('svg.chart title').textContent(), /Temps de réponse de FrAndroid sur 24 h/);
  assert.equal(await page.locator('svg.chart path.p95').count(), 1);
  assert.equal(await page.locator('svg.day-bar .day').count(), 90);

  // The range switch is plain links.
  await page.locator('.range-switch a', { hasText: '7 jours' }).click();
  await page.waitForURL(/range=7d/);
  assert.equal(await page.locator('.range-switch a[aria-current="page"]').textContent(), '7 jours');
  assert.match(await page.locator('svg.chart title').textContent(), /sur 7 jours/);

  const missing = await page.goto(vigie.base + '/services/nope');
  assert.equal(missing.status(), 404);
  await context.close();
});
