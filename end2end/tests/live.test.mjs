// Live updates: a monitored site that fails is shown down on an already open page, through
// /events, without a reload, and a reader looking at a day of its bar keeps the focus and
// the tooltip; when it comes back the page follows again.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, startVigie, watchProblems } from '../harness.mjs';

let healthy = true;
let site;
let vigie;
let chromium;

before(async () => {
  site = createServer((req, res) => {
    if (healthy) {
      res.setHeader('content-type', 'text/html');
      res.end('<!DOCTYPE html><title>LiveSite</title><h1>LiveSite</h1>');
    } else {
      res.statusCode = 503;
      res.end('maintenance imprévue');
    }
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const port = site.address().port;
  const dir = mkdtempSync(path.join(tmpdir(), 'vigie-live-'));
  const config = path.join(dir, 'vigie.toml');
  writeFileSync(
    config,
    `[site]
title = "Live"

[[groups]]
id = "sites"
name = "Sites"

[[services]]
id = "live"
name = "LiveSite"
group = "sites"

[[services.monitors]]
id = "home"
kind = "http"
target = "http://127.0.0.1:${port}/"
interval = "1s"
timeout = "800ms"
confirm = 1
recover = 1
keyword = "LiveSite"
`,
  );
  vigie = await startVigie({ config });
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  await vigie?.stop();
  site?.close();
});

test('a site going down and back shows on the open page without reload', async () => {
  const context = await chromium.browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(vigie.base + '/');
  await page.waitForFunction(() => !document.querySelector('.group-toggle').disabled, null, { timeout: 20_000 });
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  const service = page.locator('[data-service="live"]');

  await page.waitForSelector('[data-service="live"][data-status="operational"]', { timeout: 15_000 });
  assert.match(await page.locator('.banner-text').textContent(), /Tous les services sont opérationnels/);

  // A reader on today's day of the bar, by keyboard, with its tooltip open.
  const today = service.locator('svg.day-bar .day').last();
  const date = await today.getAttribute('data-date');
  await today.focus();
  const tip = service.locator('.day-tip');
  await tip.waitFor({ state: 'visible', timeout: 5_000 });

  healthy = false;
  await page.waitForSelector('[data-service="live"][data-status="major_outage"]', { timeout: 15_000 });
  assert.match(await service.locator('.status-text').textContent(), /Panne majeure/);
  // The live reload rebuilt the bar; the reader is still on the same day, tooltip open.
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-date')), date, 'focus kept');
  await tip.waitFor({ state: 'visible', timeout: 5_000 }); // tooltip kept
  assert.match(await service.locator('.service-cause').textContent(), /sonde home/);
  assert.match(await page.locator('.banner-text').textContent(), /Panne majeure : 1 service touché/);

  healthy = true;
  await page.waitForSelector('[data-service="live"][data-status="operational"]', { timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload happened');
  assert.deepEqual(problems, []);
  await context.close();
});
