// What a reader meets, in Chromium: one clock (every time on `/`, an incident page and the
// console is in the site's timezone and says so, none in UTC), a major incident with no
// service attached turns the banner (never green above it), `?lang=en` survives every
// internal link (service → back → history → incident), the subscribe control is on every
// public page (without SMTP it offers no e-mail entry: /subscribe would have nothing to
// offer), and from a phone to a desktop (390 to 1280 px) the service page's chart axis reads
// at 11 px or more and its probe table reads whole.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addStaff, cutByLeaving, launchChromium, signIn, startVigie, vigieBin, watchProblems } from '../harness.mjs';

const EMAIL = 'astreinte@humanoid.test';
const PASSWORD = 'correct-horse-battery-staple';

let site;
let dir;
let vigie;
let chromium;
let bin;
let database;
let config;

before(async () => {
  // The monitored site answers: the services read operational from probes alone.
  site = createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!DOCTYPE html><title>Forum</title>');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${site.address().port}/`;
  dir = mkdtempSync(path.join(tmpdir(), 'vigie-reader-'));
  config = path.join(dir, 'vigie.toml');
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

[[services.monitors]]
id = "home"
kind = "http"
target = "${target}"
interval = "2s"
timeout = "1s"
`,
  );
  bin = vigieBin();
  database = `sqlite://${path.join(dir, 'vigie.db')}?mode=rwc`;
  addStaff({ config, database, dir, email: EMAIL, role: 'editor', password: PASSWORD });
  // A resolved incident on the forum (its page, the history and the service page link to it),
  // written before the server starts.
  const t = (minutesAgo) => new Date(Date.now() - minutesAgo * 60_000).toISOString().replace('Z', '+00:00');
  execFileSync('sqlite3', [
    path.join(dir, 'vigie.db'),
    `INSERT INTO incidents (id, title, status, impact, notify, started_at, resolved_at, created_at, updated_at)
       VALUES (1, 'Panne du forum', 'resolved', 'major', 0, '${t(120)}', '${t(30)}', '${t(120)}', '${t(30)}');
     INSERT INTO incident_updates (incident_id, status, message_md, message_html, service_statuses, created_at, edited_at, previous_md)
       VALUES (1, 'investigating', 'a', '<p>Nous enquêtons.</p>', '{}', '${t(120)}', NULL, '[]'),
              (1, 'resolved', 'b', '<p>Réparé.</p>', '{}', '${t(30)}', NULL, '[]');
     INSERT INTO incident_services (incident_id, service_id, status) VALUES (1, 'forum', 'major_outage');`,
  ]);
  vigie = await startVigie({ config, args: ['--database-url', database] });
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  await vigie?.stop();
  site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const hydrated = (page) =>
  page.waitForFunction(() => !document.querySelector('.theme-toggle')?.hidden, null, { timeout: 20_000 });

/** Every `<time>` text on the page, and whether the body says "UTC" anywhere. */
async function clocks(page) {
  return page.evaluate(() => ({
    times: [...document.querySelectorAll('main time')].map((t) => t.textContent.trim()),
    utc: /\bUTC\b/.test(document.body.innerText),
  }));
}

test('one clock: the times on /, an incident page and the console are Paris time, labelled', async () => {
  // Without JavaScript the page's own clock stays absolute, so every time can be read.
  const context = await chromium.browser.newContext({ locale: 'fr-FR', javaScriptEnabled: false });
  const page = await context.newPage();
  const dated = /^\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4} à \d{2}:\d{2} \(heure de Paris\)/;
  for (const path of ['/', '/incidents/1', '/history']) {
    await page.goto(vigie.base + path);
    const { times, utc } = await clocks(page);
    assert.ok(times.length > 0, `${path}: some times shown`);
    for (const time of times) assert.match(time, /\(heure de Paris\)/, `${path}: "${time}" names its clock`);
    assert.equal(utc, false, `${path}: no UTC time shown to readers`);
  }
  await page.goto(vigie.base + '/incidents/1');
  assert.match(await page.textContent('.incident-update time'), dated, 'one date format');
  await context.close();

  const staffContext = await chromium.browser.newContext({ locale: 'fr-FR' });
  const staff = await staffContext.newPage();
  const problems = watchProblems(staff);
  await signIn(staff, vigie.base, EMAIL, PASSWORD);
  for (const path of ['/admin/incidents', '/admin/incidents/1', '/admin/incidents/new', '/admin/maintenance']) {
    await staff.goto(vigie.base + path);
    const text = await staff.evaluate(() => document.body.innerText);
    assert.doesNotMatch(text, /\bUTC\b/, `${path}: no UTC shown to staff`);
    assert.match(text, /heure de Paris/, `${path}: the clock is named`);
  }
  assert.deepEqual(problems, []);
  await staffContext.close();
});

test('a major incident with no service attached turns the banner, never green above it', async () => {
  const context = await chromium.browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(vigie.base + '/');
  await hydrated(page);
  // The probes make the forum operational: a green banner.
  await page.waitForSelector('.banner.banner-operational', { timeout: 20_000 });
  const green = await page.evaluate(() => getComputedStyle(document.querySelector('.banner')).backgroundColor);

  // Staff declare a major incident naming no service, through the write API as on-call tooling
  // would; the open page follows live.
  const token = execFileSync(
    bin,
    ['--config', config, 'token', 'add', 'astreinte', '--user', EMAIL, '--scope', 'incidents:write'],
    { cwd: dir, env: { ...process.env, VIGIE_DATABASE_URL: database, RUST_LOG: 'warn' }, encoding: 'utf8' },
  ).trim();
  const res = await fetch(vigie.base + '/api/v1/incidents', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Hébergeur injoignable', impact: 'major', status: 'investigating', message: 'Nous enquêtons.' }),
  });
  assert.equal(res.status, 201, await res.text());

  await page.waitForSelector('.banner.banner-major_outage', { timeout: 15_000 });
  assert.equal(await page.locator('.banner.banner-operational').count(), 0);
  assert.equal(await page.textContent('.banner-text'), 'Panne majeure : 1 incident en cours');
  const now = await page.evaluate(() => getComputedStyle(document.querySelector('.banner')).backgroundColor);
  assert.notEqual(now, green, 'the banner is no longer green');
  // The service itself is still operational: the banner reads the incident, not the probes.
  assert.equal(await page.getAttribute('[data-service="forum"]', 'data-status'), 'operational');
  assert.deepEqual(problems, []);
  await context.close();
});

test('?lang=en is kept across every internal link: service, back, history, incident', async () => {
  const context = await chromium.browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  const problems = watchProblems(page);
  const english = async (where) => {
    assert.match(page.url(), /[?&]lang=en(&|$)/, `${where}: ${page.url()}`);
    assert.equal(await page.getAttribute('html', 'lang'), 'en', where);
  };
  await page.goto(vigie.base + '/?lang=en');
  await hydrated(page);
  await english('/');
  await Promise.all([page.waitForURL('**/services/forum?**'), page.click('[data-service="forum"] a.service-name')]);
  await english('service page');
  await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('.breadcrumb a')]);
  await english('back to the overview');
  await Promise.all([page.waitForURL('**/history?**'), page.click('.site-nav a[href^="/history"]')]);
  await english('history');
  await Promise.all([page.waitForURL('**/incidents/1?**'), page.click('a[href^="/incidents/1"]')]);
  await english('incident page');
  // Every internal link on the incident page keeps it too.
  const hrefs = await page.$$eval('a[href^="/"]', (as) => as.map((a) => a.getAttribute('href')));
  const internal = hrefs.filter((h) => !/^\/(feed|maintenance\.ics|pkg\/)/.test(h) && !/[?&]lang=fr/.test(h));
  assert.ok(internal.length > 0);
  for (const h of internal) assert.match(h, /[?&]lang=en(&|$)/, `link ${h}`);
  assert.deepEqual(
    problems.filter((p) => !cutByLeaving(p)),
    [],
  );
  await context.close();
});

test('the subscribe control is visible on every public page', async () => {
  const context = await chromium.browser.newContext({ locale: 'fr-FR', viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  for (const path of ['/', '/history', '/maintenance', '/incidents/1', '/services/forum', '/nope']) {
    await page.goto(vigie.base + path);
    const control = page.locator('.subscribe summary');
    assert.equal(await control.isVisible(), true, `${path}: subscribe control visible`);
    assert.equal(await control.textContent(), "S'abonner", path);
    await control.click();
    const feeds = await page.locator('.subscribe a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(feeds, ['/feed.rss?lang=fr', '/feed.atom?lang=fr', '/maintenance.ics?lang=fr'], path);
  }
  await context.close();
});

// The chart is drawn in its own units and scaled to the figure's width: its axis must read at
// 11 px or more on a phone, a small tablet, a laptop and a desktop alike.
for (const width of [390, 640, 900, 1280]) test(`at ${width} px the chart axis reads at 11 px or more and the probe table cuts off no column`, async () => {
  const context = await chromium.browser.newContext({ locale: 'fr-FR', viewport: { width, height: 844 } });
  const page = await context.newPage();
  const problems = watchProblems(page);
  for (const range of ['24h', '7d', '30d']) {
    for (const lang of ['fr', 'en']) {
      const where = `/services/forum?range=${range}&lang=${lang} at ${width} px`;
      await page.goto(`${vigie.base}/services/forum?range=${range}&lang=${lang}`);
      // The probes run every 2 s: the table has a row once the first result is in.
      await page.waitForSelector('.locations tbody td', { timeout: 20_000 });
      const m = await page.evaluate(() => {
        const svg = document.querySelector('.latency-chart svg');
        // The chart is drawn in its own units and scaled to the screen: the size a reader
        // sees is the text's font size times that scale.
        const scale = svg.getScreenCTM().a;
        const label = (t) => {
          const r = t.getBoundingClientRect();
          return { text: t.textContent, left: r.left, right: r.right, px: parseFloat(getComputedStyle(t).fontSize) * scale };
        };
        const cells = [...document.querySelectorAll('.locations td')].map((td) => {
          const r = td.getBoundingClientRect();
          return { text: td.textContent, left: r.left, right: r.right, clipped: td.scrollWidth > td.clientWidth + 1 };
        });
        const scroller = document.querySelector('.locations .table-scroll');
        return {
          x: [...svg.querySelectorAll('.axis-x text')].map(label),
          y: [...svg.querySelectorAll('.axis-y text')].map(label),
          cells,
          scrolls: scroller.scrollWidth > scroller.clientWidth,
          box: (() => { const r = scroller.getBoundingClientRect(); return { left: r.left, right: r.right }; })(),
          pageWidth: document.documentElement.scrollWidth,
          // What sticks out on the right, to name it when the page scrolls sideways.
          wide: [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .slice(0, 3)
            .map((e) => `${e.tagName.toLowerCase()}.${e.getAttribute('class')} ends at ${Math.round(e.getBoundingClientRect().right)}`),
          width: window.innerWidth,
        };
      });
      assert.ok(m.x.length >= 2 && m.y.length >= 2, `${where}: both axes labelled`);
      for (const l of [...m.x, ...m.y]) {
        assert.ok(l.px >= 11, `${where}: "${l.text}" is drawn at ${l.px.toFixed(1)} px`);
        assert.ok(l.left >= 0 && l.right <= m.width, `${where}: "${l.text}" is cut off (${l.left}–${l.right})`);
      }
      const xs = [...m.x].sort((a, b) => a.left - b.left);
      for (let i = 1; i < xs.length; i++) {
        assert.ok(xs[i - 1].right <= xs[i].left, `${where}: "${xs[i - 1].text}" runs into "${xs[i].text}"`);
      }
      assert.ok(m.pageWidth <= m.width, `${where}: the page scrolls sideways (${m.pageWidth} > ${m.width}): ${m.wide.join('; ')}`);
      // Every cell is whole on screen, or the table scrolls inside its own box.
      for (const c of m.cells) {
        assert.equal(c.clipped, false, `${where}: "${c.text}" is clipped in its cell`);
        const inside = c.left >= m.box.left - 0.5 && c.right <= m.box.right + 0.5;
        assert.ok(inside || m.scrolls, `${where}: the cell "${c.text}" is cut off and the table does not scroll`);
      }
    }
  }
  assert.deepEqual(problems, []);
  await context.close();
});
