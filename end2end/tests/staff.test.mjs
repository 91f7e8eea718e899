// The staff flow in a real browser, watched by a reader: an editor created with `vigie user
// add` signs in, opens an incident from the French template and posts three updates through to
// resolved; a reader's page opened beforehand shows each one without reload, and /feed.atom
// gains one entry per update, newest first. The editor then schedules a maintenance window
// (on /maintenance, in /maintenance.ics and on the open page) and signs out. Forms posted
// without a CSRF token or from another origin are refused; after sign-out the console sends
// the browser to the sign-in form and a replayed form (old cookie and token, or none) changes
// nothing.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addStaff, launchChromium, signIn, startVigie, watchProblems } from '../harness.mjs';

const EMAIL = 'redaction@humanoid.test';
const PASSWORD = 'correct-horse-battery-staple';
const TITLE = 'Forum et site inaccessibles';

let site;
let dir;
let vigie;
let chromium;
let reader; // page A: the public page, open for the whole file, never reloaded
let readerProblems;
let staffContext;
let staff; // page B: the console
let staffProblems;
let incidentId;

before(async () => {
  // The monitored sites answer, so the page reads operational and only staff change it.
  site = createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!DOCTYPE html><title>Forum</title><h1>Forum</h1>');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${site.address().port}/`;
  dir = mkdtempSync(path.join(tmpdir(), 'vigie-staff-'));
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

[[services.monitors]]
id = "home"
kind = "http"
target = "${target}"
interval = "5s"
timeout = "2s"

[[services]]
id = "frandroid"
name = "FrAndroid"
group = "sites"

[[services.monitors]]
id = "home"
kind = "http"
target = "${target}"
interval = "5s"
timeout = "2s"
`,
  );
  // The staff account comes from the command line, on the database the server will use.
  const database = `sqlite://${path.join(dir, 'vigie.db')}?mode=rwc`;
  const created = addStaff({ config, database, dir, email: EMAIL, role: 'editor', password: PASSWORD });
  assert.match(created, /created redaction@humanoid\.test \(editor\)/);
  vigie = await startVigie({ config, args: ['--database-url', database] });
  chromium = await launchChromium();

  const readerContext = await chromium.browser.newContext({ locale: 'fr-FR' });
  reader = await readerContext.newPage();
  readerProblems = watchProblems(reader);
  await reader.goto(vigie.base + '/');
  await reader.waitForFunction(() => !document.querySelector('.group-toggle').disabled, null, { timeout: 20_000 });
  await reader.evaluate(() => {
    window.__sameDocument = true;
  });
  staffContext = await chromium.browser.newContext({ locale: 'fr-FR' });
  staff = await staffContext.newPage();
  staffProblems = watchProblems(staff);
});

after(async () => {
  await chromium?.close();
  await vigie?.stop();
  site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Polls `probe` (async, returns a value or null) until it gives a value; fails after `ms`. */
async function until(what, probe, ms = 15_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last !== null && last !== undefined && last !== false) return last;
    if (Date.now() > deadline) throw new Error(`not seen in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The titles of /feed.atom's entries about our incident, in feed order. */
async function feedTitles() {
  const res = await fetch(vigie.base + '/feed.atom');
  assert.equal(res.status, 200);
  const xml = await res.text();
  return [...xml.matchAll(/<entry>([\s\S]*?)<\/entry>/g)]
    .map((m) => m[1])
    .filter((e) => e.includes(`/incidents/${incidentId}#update-`))
    .map((e) => e.match(/<title[^>]*>([^<]*)<\/title>/)[1]);
}

/** Waits until /feed.atom has `want` (newest first) for our incident. */
async function feedShows(want) {
  let titles = [];
  try {
    await until(`${want.length} entries in /feed.atom`, async () => {
      titles = await feedTitles();
      return titles.length >= want.length;
    });
  } catch {
    // Fall through: the comparison below says what the feed had instead.
  }
  assert.deepEqual(titles, want);
}

async function incidentsJson() {
  const res = await fetch(vigie.base + '/api/v2/incidents.json');
  assert.equal(res.status, 200);
  return (await res.json()).incidents;
}

/** The card of our incident on the reader's page. */
const card = () => reader.locator(`.incident[data-incident="${incidentId}"]`);

test('an editor signs in and opens an incident from the French template; the open page shows it live', async () => {
  await signIn(staff, vigie.base, EMAIL, PASSWORD);
  assert.match(await staff.textContent('nav'), /redaction@humanoid\.test \(rédaction\)/);

  await Promise.all([
    staff.waitForURL('**/admin/incidents/new?template=fr'),
    staff.click('a:has-text("Nouvel incident")'),
  ]);
  const form = staff.locator('form[action="/admin/incidents"]');
  // The short first message comes first; the full write-up is one button away.
  assert.match(await form.locator('textarea[name="message"]').inputValue(), /^Nous enquêtons/);
  await Promise.all([
    staff.waitForURL('**/admin/incidents'),
    form.locator('button:has-text("Compte rendu complet (français)")').click(),
  ]);
  const template = await form.locator('textarea[name="message"]').inputValue();
  assert.match(template, /^Depuis \*\*\[heure\]\*\*, \[services\] sont inaccessibles\./);
  assert.match(template, /## Ce qui s'est passé/);
  assert.match(template, /Merci pour vos encouragements !/);
  // The editor fills the template's blanks in, as a person would.
  const written = template
    .replace('[heure]', '9 h 40')
    .replace('[services]', 'le forum et FrAndroid')
    .replace(/\[Décrivez[^\]]*\]/, "Le disque du serveur du forum est plein. Nous n'avons pas été piratés.")
    .replace(/\[Les étapes[^\]]*\]/, 'Nous libérons de la place.')
    .replace(/\[Ce que nous modifions[^\]]*\]/, 'Une alerte sur le remplissage des disques.')
    .replace('[nom]', 'Humanoid');
  assert.doesNotMatch(written, /\[/, 'every blank filled in');
  await form.locator('input[name="title"]').fill(TITLE);
  assert.equal(await form.locator('select[name="status"]').inputValue(), 'investigating');
  await form.locator('select[name="service:forum"]').selectOption('major_outage');
  await form.locator('select[name="service:frandroid"]').selectOption('partial_outage');
  await form.locator('textarea[name="message"]').fill(written);
  await Promise.all([
    staff.waitForURL(/\/admin\/incidents\/\d+$/),
    form.locator('button[name="action"][value="publish"]').click(),
  ]);
  incidentId = Number(staff.url().match(/\/admin\/incidents\/(\d+)$/)[1]);
  assert.equal(await staff.textContent('h1'), TITLE);

  await card().waitFor({ timeout: 15_000 });
  assert.equal(await card().locator('.incident-title').textContent(), TITLE);
  assert.equal(await card().locator('.incident-state').textContent(), 'Enquête en cours');
  assert.equal(await card().locator('.incident-services').textContent(), 'Services touchés : Forum, FrAndroid');
  const body = card().locator('.incident-body');
  assert.match(await body.textContent(), /Depuis 9 h 40, le forum et FrAndroid sont inaccessibles\./);
  assert.equal(await body.locator('h2').first().textContent(), "Ce qui s'est passé");
  assert.equal(await body.locator('strong').first().textContent(), '9 h 40');

  await feedShows([`[Enquête en cours] ${TITLE}`]);
});

test('three updates through to resolved each show on the open page and in /feed.atom', async () => {
  const steps = [
    {
      status: 'identified',
      label: 'Cause identifiée',
      message: 'Le disque des **bases de données** est plein : nous déplaçons les journaux.',
      shown: 'Le disque des bases de données est plein : nous déplaçons les journaux.',
    },
    {
      status: 'monitoring',
      label: 'Sous surveillance',
      message: 'Les sites répondent de nouveau ; nous surveillons les temps de réponse.',
      shown: 'Les sites répondent de nouveau ; nous surveillons les temps de réponse.',
      services: { forum: 'degraded_performance', frandroid: 'operational' },
    },
    {
      status: 'resolved',
      label: 'Résolu',
      message: 'Tout est rentré dans l’ordre. Merci pour votre patience !',
      services: { forum: 'operational' },
    },
  ];
  const feed = [`[Enquête en cours] ${TITLE}`];
  for (const step of steps) {
    await staff.goto(`${vigie.base}/admin/incidents/${incidentId}`);
    const form = staff.locator(`form[action="/admin/incidents/${incidentId}/updates"]`);
    await form.locator('select[name="status"]').selectOption(step.status);
    for (const [id, status] of Object.entries(step.services ?? {})) {
      await form.locator(`select[name="service:${id}"]`).selectOption(status);
    }
    await form.locator('textarea[name="message"]').fill(step.message);
    await Promise.all([
      staff.waitForURL(`${vigie.base}/admin/incidents/${incidentId}`),
      form.locator('button:has-text("Publier la mise à jour")').click(),
    ]);
    assert.match(await staff.textContent('.incident-summary'), new RegExp(`^${step.label} · Impact majeur`));
    assert.match(await staff.textContent('.notice-ok'), /Mise à jour publiée\./);

    if (step.status === 'resolved') {
      // A resolved incident leaves the overview: the reader sees the card go.
      await card().waitFor({ state: 'detached', timeout: 15_000 });
      assert.equal(await reader.locator('section.incidents').count(), 0, 'no open incident is listed');
    } else {
      await reader.waitForFunction(
        ([id, label]) =>
          document.querySelector(`.incident[data-incident="${id}"] .incident-update-meta strong`)?.textContent === label,
        [incidentId, step.label],
        { timeout: 15_000, polling: 100 },
      );
      assert.equal(await card().locator('.incident-state').textContent(), step.label);
      assert.equal((await card().locator('.incident-body').textContent()).trim(), step.shown);
    }
    feed.unshift(`[${step.label}] ${TITLE}`);
    await feedShows(feed);
  }
  const [incident] = (await incidentsJson()).filter((i) => i.name === TITLE);
  assert.equal(incident.status, 'resolved');
  assert.equal(incident.incident_updates.length, 4);
});

test('a scheduled maintenance shows on /maintenance, in /maintenance.ics and on the open page', async () => {
  // Whole minutes, two hours ahead: the form takes the site's time (Paris) in
  // `datetime-local` format.
  const minute = 60_000;
  const start = new Date(Math.ceil(Date.now() / minute) * minute + 120 * minute);
  const end = new Date(start.getTime() + 90 * minute);
  const paris = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Paris',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const local = (d) => paris.format(d).replace(' ', 'T');
  const title = 'Migration du forum';
  const message = 'Le forum sera en **lecture seule** pendant la migration.';

  await staff.goto(vigie.base + '/admin/maintenance');
  const form = staff.locator('form[action="/admin/maintenance"]');
  await form.locator('input[name="title"]').fill(title);
  await form.locator('input[name="starts_at"]').fill(local(start));
  await form.locator('input[name="ends_at"]').fill(local(end));
  await form.locator('input[name="services"][value="forum"]').check();
  await form.locator('textarea[name="message"]').fill(message);
  await Promise.all([
    staff.waitForURL(vigie.base + '/admin/maintenance'),
    form.locator('button:has-text("Planifier")').click(),
  ]);
  const listedInConsole = staff.locator('.maintenance-item', { hasText: title });
  assert.match(await listedInConsole.textContent(), /Programmée · du .* \(heure de Paris\) au /, 'listed in the console');
  assert.match(await staff.textContent('.notice-ok'), /Maintenance planifiée\./);

  // The reader's open page lists it among upcoming windows.
  // Live, without a reload, strictly. (Under load it used to miss it about one run in three.
  // The path found in the code: a reload whose data read failed got an older copy from the
  // stale layer, which the page cache then kept for the whole generation, and the page never
  // asked again. Such copies are no longer kept, the live data answers its error, and the
  // page keeps what it shows and retries.)
  const onHome = reader.locator('.home-maintenance .maintenance', { hasText: title });
  await onHome.waitFor({ timeout: 15_000 });
  assert.equal(await onHome.locator('.maintenance-status').textContent(), 'Programmée');

  const page = await (await chromium.browser.newContext({ locale: 'fr-FR' })).newPage();
  const problems = watchProblems(page);
  await page.goto(vigie.base + '/maintenance');
  const listed = page.locator('.maintenance-upcoming .maintenance', { hasText: title });
  assert.equal(await listed.count(), 1);
  assert.equal(Date.parse(await listed.locator('time').getAttribute('datetime')), start.getTime());
  assert.equal(await listed.locator('.maintenance-services a').textContent(), 'Forum');
  assert.equal(await listed.locator('.maintenance-body strong').textContent(), 'lecture seule');
  assert.deepEqual(problems, []);
  await page.context().close();

  const ics = await until('the window in /maintenance.ics', async () => {
    const res = await fetch(vigie.base + '/maintenance.ics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/calendar/);
    // Unfold RFC 5545 continuation lines before reading properties.
    const text = (await res.text()).replace(/\r\n[ \t]/g, '');
    return text.includes(`SUMMARY:${title}`) ? text : null;
  });
  const event = ics.split('BEGIN:VEVENT').find((e) => e.includes(`SUMMARY:${title}`));
  const stamp = (d) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  assert.match(event, new RegExp(`^DTSTART:${stamp(start)}\\r?$`, 'm'));
  assert.match(event, new RegExp(`^DTEND:${stamp(end)}\\r?$`, 'm'));
  assert.match(event, /^STATUS:CONFIRMED\r?$/m);
  assert.match(event, /^DESCRIPTION:.*Le forum sera en lecture seule pendant la migration\./m);
});

test('an update starts at the current status, a template blank is refused, and a reload posts nothing twice', async () => {
  // Its own tab: the refused post answers 422, which this tab expects and no other does.
  const page = await staffContext.newPage();
  const problems = watchProblems(page);
  await page.goto(vigie.base + '/admin/incidents/new');
  const form = page.locator('form[action="/admin/incidents"]');
  await form.locator('input[name="title"]').fill('Forum lent');
  await form.locator('select[name="status"]').selectOption('identified');
  await form.locator('select[name="service:forum"]').selectOption('degraded_performance');
  await Promise.all([page.waitForURL(/\/admin\/incidents\/\d+$/), form.locator('button[value="publish"]').click()]);
  const id = Number(page.url().match(/(\d+)$/)[1]);
  const updates = async () => (await incidentsJson()).find((i) => i.name === 'Forum lent').incident_updates.length;
  assert.equal(await updates(), 1);

  const next = page.locator(`form[action="/admin/incidents/${id}/updates"]`);
  assert.equal(await next.locator('select[name="status"]').inputValue(), 'identified', 'preselected');
  assert.match(await page.locator('[data-service="forum"] .service-row-now').textContent(), /Performances dégradées/);
  await next.locator('textarea[name="message"]').fill("Merci !\n\nL'équipe [nom]");
  await next.locator('button[value="publish"]').click();
  await page.waitForSelector('#f-message-error');
  assert.match(await page.textContent('#f-message-error'), /« \[nom\] »/);
  assert.equal(await updates(), 1, 'nothing published');

  await next.locator('textarea[name="message"]').fill('Le forum répond de nouveau normalement.');
  await Promise.all([page.waitForURL(`${vigie.base}/admin/incidents/${id}`), next.locator('button[value="publish"]').click()]);
  assert.match(await page.textContent('.notice-ok'), /Mise à jour publiée\./);
  assert.equal(await page.locator(`.notice-ok a[href="/incidents/${id}"]`).count(), 1, 'link to the public page');
  assert.equal(await updates(), 2);
  await page.reload();
  await page.reload();
  assert.equal(await updates(), 2, 'a reload posts nothing');
  assert.equal(await page.locator('.notice-ok').count(), 0, 'the confirmation is shown once');
  assert.equal(problems.length, 2, `only the refused post: ${problems}`);
  assert.ok(problems.every((p) => /422/.test(p)), `${problems}`);
  await page.close();
});

test('at 390 px wide the console has no horizontal overflow and no overlapping controls', async () => {
  const page = await staffContext.newPage();
  const problems = watchProblems(page);
  await page.setViewportSize({ width: 390, height: 844 });
  const [first] = (await incidentsJson()).filter((i) => i.name === 'Forum lent');
  for (const path of ['/admin/incidents', '/admin/incidents/new', `/admin/incidents/${first.id}`, '/admin/maintenance', '/admin/account']) {
    await page.goto(vigie.base + path);
    const found = await page.evaluate(() => {
      const out = [];
      if (document.documentElement.scrollWidth > window.innerWidth) {
        out.push(`page ${document.documentElement.scrollWidth}px wide`);
      }
      const controls = [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a, label, summary')]
        .filter((e) => e.getClientRects().length > 0 && !e.closest('details:not([open]) > :not(summary)'))
        .map((e) => ({ e, r: e.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && r.height > 0);
      for (const { e, r } of controls) {
        if (r.right > window.innerWidth + 0.5) out.push(`${e.tagName} "${e.textContent.trim().slice(0, 30)}" past the right edge`);
      }
      for (let i = 0; i < controls.length; i++) {
        for (let j = i + 1; j < controls.length; j++) {
          const a = controls[i];
          const b = controls[j];
          if (a.e.contains(b.e) || b.e.contains(a.e)) continue;
          // A label and its own control may touch; they never overlap either.
          const x = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
          const y = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
          if (x > 1 && y > 1) {
            const name = (c) => `${c.e.tagName}[${c.e.getAttribute('name') ?? c.e.textContent.trim().slice(0, 20)}]`;
            out.push(`${name(a)} overlaps ${name(b)}`);
          }
        }
      }
      return out;
    });
    assert.deepEqual(found, [], path);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('a console form without its CSRF token, or from another origin, is refused', async () => {
  const [session] = (await staffContext.cookies()).filter((c) => c.name === 'vigie_session');
  const csrf = await staff.getAttribute('nav form[action="/admin/logout"] input[name="csrf"]', 'value');
  const before = (await incidentsJson()).length;
  const post = (origin, form) =>
    fetch(vigie.base + '/admin/incidents', {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: `vigie_session=${session.value}`,
        origin,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ ...form, title: 'Forgé', impact: 'major', status: 'investigating', message: 'x' }),
    });
  // The request as the browser sends it passes (a preview, which writes nothing)…
  const preview = await post(vigie.base, { csrf, action: 'preview' });
  assert.equal(preview.status, 200);
  assert.match(await preview.text(), /Aperçu : ce que les lecteurs verront/);
  // …and publishing with a missing or wrong token, or from another site, does not.
  const attempts = [
    [vigie.base, {}],
    [vigie.base, { csrf: 'x'.repeat(csrf.length) }],
    ['http://evil.example', { csrf }],
  ];
  for (const [origin, form] of attempts) {
    const res = await post(origin, { ...form, action: 'publish' });
    assert.equal(res.status, 403, `${origin} ${JSON.stringify(form)}`);
  }
  assert.equal((await incidentsJson()).length, before, 'no incident created');
});

test('after sign-out the console sends the browser to sign in, and a replayed form changes nothing', async () => {
  const [session] = (await staffContext.cookies()).filter((c) => c.name === 'vigie_session');
  const csrf = await staff.getAttribute('nav form[action="/admin/logout"] input[name="csrf"]', 'value');
  await Promise.all([staff.waitForURL(vigie.base + '/admin/login'), staff.click('nav button:has-text("Se déconnecter")')]);
  assert.deepEqual((await staffContext.cookies()).filter((c) => c.name === 'vigie_session'), []);

  await staff.goto(vigie.base + '/admin/incidents/new?template=fr');
  assert.equal(staff.url(), vigie.base + '/admin/login');
  assert.equal(await staff.locator('input[name="password"]').count(), 1);
  assert.equal(await staff.locator('textarea').count(), 0, 'no incident form');

  const before = await incidentsJson();
  const updatesBefore = before.find((i) => i.name === TITLE).incident_updates.length;
  const replays = [
    ['/admin/incidents', { title: 'Rejoué', impact: 'major', status: 'investigating', message: 'x', action: 'publish' }],
    [`/admin/incidents/${incidentId}/updates`, { status: 'investigating', message: 'Rouvert par un rejeu.' }],
    ['/admin/maintenance', { title: 'Rejouée', starts_at: '2099-01-01T00:00', ends_at: '2099-01-01T01:00', message: 'x' }],
  ];
  // The cookie and token of the ended session, then nothing at all.
  for (const cookie of [`vigie_session=${session.value}`, null]) {
    for (const [url, form] of replays) {
      const res = await fetch(vigie.base + url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          ...(cookie ? { cookie } : {}),
          origin: vigie.base,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams(cookie ? { csrf, ...form } : form),
      });
      assert.equal(res.status, 303, `${url} with ${cookie ? 'the old session' : 'no session'}`);
      assert.equal(res.headers.get('location'), '/admin/login');
    }
  }
  const now = await incidentsJson();
  assert.equal(now.length, before.length, 'no incident created');
  assert.equal(now.find((i) => i.name === TITLE).incident_updates.length, updatesBefore, 'no update posted');
  const ics = await (await fetch(vigie.base + '/maintenance.ics')).text();
  assert.doesNotMatch(ics, /Rejouée/, 'no maintenance scheduled');
});

test('the open page followed it all without a reload or a console error', async () => {
  assert.equal(await reader.evaluate(() => window.__sameDocument), true, 'no reload happened');
  assert.deepEqual(readerProblems, []);
});

test('the console pages load without a console error', () => {
  assert.deepEqual(staffProblems, []);
});
