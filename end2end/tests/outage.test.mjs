// The Humanoid outage replayed by `vigie demo --scenario humanoid-outage`, watched on one open
// page in Chromium without reload: the cut hosts' services turn major outage with their host
// named, the failed backup verification turns the backup service down, the staff incident and
// its updates appear in order (on the page and in /feed.atom), at the end every service is
// operational again, and today's segment of the 90-day bar shows the downtime.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, launchChromium, root, vigieBin, watchProblems } from '../harness.mjs';

// One simulated hour lasts 20 s / SPEED: the scenario's 12 h take 96 s. The demo probes every
// 10 s; a cut host is confirmed down by both locations in about 10-20 s, well within the 6.5 h
// (52 s) the cut lasts.
const SPEED = 2.5;

const ON_PHYS_2 = ['frandroid', 'appxoid', 'lesardoises', 'android-bundle', 'frawin', 'mobs', 'project-files'];
const ON_PHYS_1 = ['forum', 'databases'];

let demo;
let dir;
let output = '';
// When the demo printed the failed backup step (wall clock, as the page's records).
let backupFailedAt = null;
let chromium;
let base;

/** Resolves with the first match of `re` in the demo's output. */
async function printed(re, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = output.match(re);
    if (m) return m;
    if (demo.exitCode !== null) throw new Error(`vigie demo exited (${demo.exitCode}):\n${output}`);
    if (Date.now() > deadline) throw new Error(`not printed: ${re}\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  const bin = vigieBin();
  dir = mkdtempSync(path.join(tmpdir(), 'vigie-outage-'));
  const port = await freePort();
  demo = spawn(
    bin,
    ['--config', path.join(root, 'config/humanoid.toml'), 'demo', '--listen', `127.0.0.1:${port}`,
      '--scenario', 'humanoid-outage', '--speed', String(SPEED)],
    {
      cwd: dir,
      env: { ...process.env, VIGIE_DATABASE_URL: `sqlite://${dir}/vigie.db?mode=rwc`, RUST_LOG: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  demo.stdout.on('data', (d) => {
    output += d;
    if (backupFailedAt === null && /La sauvegarde nocturne échoue/.test(output)) backupFailedAt = Date.now();
  });
  demo.stderr.on('data', (d) => (output += d));
  chromium = await launchChromium();
  [, base] = await printed(/public page:\s+(http:\/\/\S+?)\/?\s/, 30_000);
  const login = await printed(/staff sign-in:\s+\S+\s+(\S+@\S+)\s+password (\S+)/, 5_000);
  assert.ok(login[2].length >= 16, 'a real password is printed');
  await printed(/probing from:\s+paris \(127\.0\.0\.2\), amsterdam \(127\.0\.0\.3\)/, 5_000);
});

after(async () => {
  await chromium?.close();
  if (demo && demo.exitCode === null) {
    demo.kill('SIGTERM');
    await new Promise((r) => (demo.exitCode !== null ? r() : demo.once('exit', r)));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let incidentTitle;

test('the outage plays out on the open page without reload', { timeout: 170_000 }, async () => {
  const context = await chromium.browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(base + '/');
  await page.waitForFunction(() => !document.querySelector('.group-toggle').disabled, null, { timeout: 20_000 });
  // Record, in the page, every status each service shows and every incident state shown.
  await page.evaluate(() => {
    window.__sameDocument = true;
    window.__statuses = {};
    window.__incident = [];
    window.__changes = [];
    const record = () => {
      for (const el of document.querySelectorAll('[data-service]')) {
        const seen = (window.__statuses[el.dataset.service] ??= []);
        if (seen.at(-1) !== el.dataset.status) {
          seen.push(el.dataset.status);
          window.__changes.push({ id: el.dataset.service, status: el.dataset.status, at: Date.now() });
        }
      }
      const state = document.querySelector('.incident .incident-update-meta strong')?.textContent ?? null;
      if (window.__incident.at(-1) !== state) window.__incident.push(state);
    };
    record();
    setInterval(record, 100);
  });
  const status = (id) => page.locator(`[data-service="${id}"]`).getAttribute('data-status');
  const cause = (id) => page.locator(`[data-service="${id}"] .service-cause`).textContent();

  // The hoster cuts phys-1 and phys-2: every service on them goes down, then (once both
  // locations confirm the host itself unreachable) reads its host as the cause.
  const expected = Object.fromEntries([
    ...ON_PHYS_2.map((id) => [id, 'hôte phys-2 injoignable']),
    ...ON_PHYS_1.map((id) => [id, 'hôte phys-1 injoignable']),
  ]);
  await page.waitForFunction(
    (want) =>
      Object.entries(want).every(([id, cause]) => {
        const el = document.querySelector(`[data-service="${id}"]`);
        return el?.dataset.status === 'major_outage' && el.querySelector('.service-cause')?.textContent === cause;
      }),
    expected,
    { timeout: 60_000, polling: 100 },
  );
  for (const id of Object.keys(expected)) {
    assert.match(await page.locator(`[data-service="${id}"] .status-text`).textContent(), /Panne majeure/);
  }
  // phys-4 does not exist yet in the story: staff announced its replica in maintenance until
  // it is put into service, so it reads "maintenance", never red.
  assert.equal(
    await page.locator('[data-service="database-replica"]').getAttribute('data-status'),
    'under_maintenance',
  );
  assert.match(
    await page.locator('.home-maintenance').textContent(),
    /Mise en service d’un quatrième serveur physique|Mise en service d'un quatrième serveur physique/,
  );

  // The nightly backup fails its verification: the backup service turns down.
  await page.waitForSelector('[data-service="backups"][data-status="major_outage"]', { timeout: 60_000 });
  incidentTitle = await page.locator('.incident .incident-title').textContent();
  assert.equal(incidentTitle, 'Tous les sites Humanoid sont inaccessibles');

  // Hosts given back, a new verified backup, phys-4 added, incident resolved: all operational.
  await page.waitForFunction(
    () => {
      const all = [...document.querySelectorAll('[data-service]')];
      const incident = document.querySelector('.incident .incident-update-meta strong')?.textContent;
      return all.length > 0 && all.every((el) => el.dataset.status === 'operational') && (incident ?? 'Résolu') === 'Résolu';
    },
    null,
    { timeout: 90_000, polling: 200 },
  );
  await printed(/Scenario `humanoid-outage` finished/, 10_000);
  assert.match(await page.locator('.banner-text').textContent(), /Tous les services sont opérationnels/);

  // The incident's updates appeared in order, each one live, until it was resolved.
  const shown = await page.evaluate(() => window.__incident.filter((s) => s !== null));
  const story = ['Enquête en cours', 'Cause identifiée', 'Sous surveillance', 'Résolu'];
  assert.deepEqual(shown, story.slice(0, shown.length));
  assert.ok(shown.length >= 3, `every open state was shown: ${JSON.stringify(shown)}`);
  const statuses = await page.evaluate(() => window.__statuses);
  // The backups (phys-3) stayed up through the cut, and went down only on the failed report
  // ("no data" before the demo's first backup report is not an outage).
  const backupChanges = (await page.evaluate(() => window.__changes)).filter(
    (c) => c.id === 'backups' && c.status !== 'no_data',
  );
  const backupDown = backupChanges.find((c) => c.status !== 'operational');
  assert.ok(
    backupFailedAt !== null && backupDown.at >= backupFailedAt,
    `backups down only after the failed report: ${JSON.stringify(backupChanges)}`,
  );
  assert.deepEqual(
    statuses.backups.filter((s) => s !== 'operational' && s !== 'no_data'),
    ['major_outage'],
    JSON.stringify(statuses.backups),
  );
  assert.ok(statuses.frandroid.includes('major_outage') && statuses.frandroid.at(-1) === 'operational');
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload happened');
  assert.deepEqual(problems, []);
  await context.close();
});

test(
  'the incident and its updates are in /feed.atom, in order',
  async () => {
    const res = await fetch(base + '/feed.atom');
    assert.equal(res.status, 200);
    const xml = await res.text();
    const entries = [...xml.matchAll(/<entry>([\s\S]*?)<\/entry>/g)].map((m) => m[1]);
    const ours = entries.filter((e) => e.includes('Tous les sites Humanoid sont inaccessibles'));
    assert.equal(ours.length, 4, 'one entry per update: investigating, identified, monitoring, resolved');
    const updated = ours.map((e) => Date.parse(e.match(/<updated>([^<]+)<\/updated>/)[1]));
    assert.deepEqual([...updated].sort((a, b) => b - a), updated, 'newest first');
    assert.match(ours[0], /Résolu/);
  },
);

test(
  "today's segment of the 90-day bar shows the downtime",
  async () => {
    const html = await (await fetch(base + '/')).text();
    const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });
    for (const id of ['frandroid', 'forum']) {
      const service = html.split(`data-service="${id}"`)[1] ?? '';
      const bar = service.match(/<svg class="day-bar"[\s\S]*?<\/svg>/)?.[0] ?? '';
      const day = bar.match(new RegExp(`<[^>]*data-date="${today}"[^>]*>`))?.[0] ?? '';
      assert.match(day, /class="day day-(minor|major|critical)"/, `${id}: ${day || 'no segment for today'}`);
    }
  },
);
