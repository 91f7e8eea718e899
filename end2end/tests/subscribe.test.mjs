// E-mail subscriptions end to end, with a real SMTP server on loopback (Python's aiosmtpd,
// installed by `make setup`) and a reader whose Chromium runs no JavaScript, on a phone's
// width: the "S'abonner" menu of every public page leads to the form in the page's language;
// the reader subscribes through the public form, the confirmation mail arrives at the SMTP server, the
// reader follows its link and confirms; staff publish an incident in the console; its mail
// arrives in the reader's language with the update, a link to the incident and RFC 8058
// unsubscribe headers; the reader follows the mail's unsubscribe link and is erased, and the
// next update sends nothing to that address.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addStaff, freePort, launchChromium, root, signIn, startVigie, watchProblems } from '../harness.mjs';

const EMAIL = 'redaction@humanoid.test';
const PASSWORD = 'correct-horse-battery-staple';
const READER = 'Lectrice@Example.org';
const TITLE = 'Forum inaccessible';

let site;
let dir;
let smtp;
let mailDir;
let vigie;
let chromium;
let reader; // JavaScript off: the form and every link must work without it
let readerProblems;
let staff;

/** Starts `server/tests/support/smtp_sink.py`, the aiosmtpd sink the Rust tests use too. */
async function startSmtp(into) {
  const script = path.join(root, 'server/tests/support/smtp_sink.py');
  const child = spawn('python3', [script, '--dir', into], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`the SMTP sink exited (${code}); is aiosmtpd installed? ${err}`)));
  });
  assert.ok(port > 0, `the sink prints its port: ${port}`);
  return {
    port,
    stop() {
      child.stdin.end();
      child.kill();
    },
  };
}

/** Decodes RFC 2047 encoded words of a header (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`). */
function decodeWords(value) {
  // Whitespace between two encoded words is not part of the text; elsewhere it is.
  return value.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset, enc, text) => {
    const bytes =
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          );
    return bytes.toString(charset.toLowerCase().replace('utf8', 'utf-8') === 'utf-8' ? 'utf8' : 'latin1');
  });
}

/** Headers (lower-case names, unfolded) and body of one MIME entity. */
function entity(raw) {
  const at = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, at).replace(/\r\n[ \t]+/g, ' ');
  const headers = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body: raw.slice(at + 4) };
}

function decodeBody({ headers, body }) {
  const enc = (headers['content-transfer-encoding'] || '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** A received mail: envelope recipient, headers, and its text and HTML parts decoded. */
function parseMail(raw) {
  const top = entity(raw);
  const mail = { headers: top.headers, subject: decodeWords(top.headers.subject || ''), text: '', html: '' };
  mail.to = raw.match(/^X-Rcpt-To: (.*)\r\n/)[1];
  const boundary = (top.headers['content-type'] || '').match(/boundary="?([^";]+)"?/)?.[1];
  const parts = boundary ? raw.split(`--${boundary}`).slice(1, -1).map((p) => entity(p.replace(/^\r\n/, ''))) : [top];
  for (const p of parts) {
    const type = (p.headers['content-type'] || 'text/plain').toLowerCase();
    if (type.startsWith('text/plain')) mail.text = decodeBody(p);
    if (type.startsWith('text/html')) mail.html = decodeBody(p);
  }
  return mail;
}

function mails() {
  if (!existsSync(mailDir)) return [];
  return readdirSync(mailDir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => parseMail(readFileSync(path.join(mailDir, f), 'latin1')));
}

/** Polls `probe` until it gives a value; fails after `ms`. */
async function until(what, probe, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`not seen in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The first address in `text` starting with `prefix`. */
function link(text, prefix) {
  const at = text.indexOf(prefix);
  assert.ok(at >= 0, `a link starting with ${prefix} in:\n${text}`);
  return text.slice(at).match(/^[^\s<>"]+/)[0];
}

before(async () => {
  site = createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!DOCTYPE html><title>Forum</title><h1>Forum</h1>');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${site.address().port}/`;
  dir = mkdtempSync(path.join(tmpdir(), 'vigie-subscribe-'));
  mailDir = path.join(dir, 'mail');
  smtp = await startSmtp(mailDir);
  // The links in the mails are built from base_url: it must be the address Vigie listens on.
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = path.join(dir, 'vigie.toml');
  writeFileSync(
    config,
    `[site]
title = "Humanoid"
base_url = "${base}"
default_locale = "fr"
timezone = "Europe/Paris"

[notifications.smtp]
url = "smtp://127.0.0.1:${smtp.port}"
from = "Humanoid <statut@humanoid.test>"

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
  const database = `sqlite://${path.join(dir, 'vigie.db')}?mode=rwc`;
  addStaff({ config, database, dir, email: EMAIL, role: 'editor', password: PASSWORD });
  vigie = await startVigie({ config, port, args: ['--database-url', database] });
  assert.equal(vigie.base, base);
  chromium = await launchChromium();
  // A phone's width: the menu and the form must work there too.
  const readerContext = await chromium.browser.newContext({
    locale: 'fr-FR',
    javaScriptEnabled: false,
    viewport: { width: 390, height: 844 },
  });
  reader = await readerContext.newPage();
  readerProblems = watchProblems(reader);
  staff = await (await chromium.browser.newContext({ locale: 'fr-FR' })).newPage();
});

after(async () => {
  await chromium?.close();
  await vigie?.stop();
  smtp?.stop();
  site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The page does not scroll sideways: nothing sticks out of a phone's width. */
const fitsWidth = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

/** Whether an element lies whole inside the viewport's width (not cut off at either side). */
async function onScreen(locator) {
  const box = await locator.boundingBox();
  const width = locator.page().viewportSize().width;
  return box !== null && box.x >= 0 && box.x + box.width <= width;
}

test('the subscribe menu of every public page leads to the e-mail form, in the page language', async () => {
  // In English from the history page: the menu's e-mail entry keeps the language.
  await reader.goto(vigie.base + '/history?lang=en');
  await reader.click('.subscribe summary');
  const entries = await reader.locator('.subscribe a').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
  assert.deepEqual(entries[0], ['By e-mail', '/subscribe?lang=en']);
  assert.deepEqual(
    entries.slice(1).map(([, href]) => href),
    ['/feed.rss?lang=en', '/feed.atom?lang=en', '/maintenance.ics?lang=en'],
  );
  await Promise.all([reader.waitForURL('**/subscribe?lang=en'), reader.click('.subscribe a:has-text("By e-mail")')]);
  assert.equal(await reader.getAttribute('html', 'lang'), 'en');
  assert.equal(await reader.locator('input[name="email"]').isVisible(), true);
  assert.ok(await fitsWidth(reader), 'the form fits 390 px');
  for (const path of ['/maintenance', '/services/forum', '/incidents/999?lang=fr']) {
    await reader.goto(vigie.base + path);
    await reader.click('.subscribe summary');
    assert.equal(await reader.getAttribute('.subscribe a:has-text("Par e-mail")', 'href'), '/subscribe?lang=fr', path);
  }
  // With JavaScript off Chromium refuses the pages' module script and reports it as "csp";
  // the unknown incident answers 404 on purpose.
  assert.deepEqual(readerProblems.filter((p) => !/404| csp$/.test(p)), []);
  readerProblems.length = 0;
});

test('a reader without JavaScript subscribes through the form and confirms through the mailed link', async () => {
  // From the overview, through the menu every public page has.
  await reader.goto(vigie.base + '/');
  const menu = reader.locator('.subscribe summary');
  assert.equal(await menu.isVisible(), true, 'the menu is on screen at 390 px');
  await menu.click();
  const email = reader.locator('.subscribe a:has-text("Par e-mail")');
  assert.equal(await email.isVisible(), true, 'the e-mail entry shows once the menu opens');
  assert.ok(await onScreen(reader.locator('.subscribe ul')), 'the open menu is not cut off at 390 px');
  await Promise.all([reader.waitForURL('**/subscribe?lang=fr'), email.click()]);
  assert.equal(await reader.textContent('h1'), "S'abonner aux notifications");
  assert.ok(await fitsWidth(reader), 'the form fits 390 px');
  readerProblems.splice(0, readerProblems.length, ...readerProblems.filter((p) => !/ csp$/.test(p)));
  await reader.fill('input[name="email"]', READER);
  await Promise.all([reader.waitForLoadState('load'), reader.click('button:has-text("S\'abonner")')]);
  assert.match(await reader.textContent('body'), /un courriel de confirmation vient de lui être envoyé/);

  const [confirm] = await until('the confirmation mail at the SMTP server', () => mails().length >= 1 && mails());
  assert.equal(confirm.to, 'lectrice@example.org', 'the address, normalised');
  assert.match(confirm.subject, /Humanoid/);
  assert.match(confirm.html, /<a href="http:\/\/127\.0\.0\.1:\d+\/subscribe\/confirm\?t=/);
  const confirmLink = link(confirm.text, `${vigie.base}/subscribe/confirm?t=`);

  // Following the link shows a button (a mail scanner following links subscribes nobody).
  await reader.goto(confirmLink);
  assert.equal(await reader.textContent('h1'), "Confirmer l'abonnement");
  await Promise.all([reader.waitForLoadState('load'), reader.click('button:has-text("Confirmer")')]);
  assert.match(await reader.textContent('body'), /C'est fait : vous recevrez les notifications\./);
  assert.deepEqual(readerProblems, []);
});

test('staff publish an incident; its mail arrives, and its unsubscribe link erases the address', async () => {
  await signIn(staff, vigie.base, EMAIL, PASSWORD);
  await staff.goto(vigie.base + '/admin/incidents/new');
  const form = staff.locator('form[action="/admin/incidents"]');
  await form.locator('input[name="title"]').fill(TITLE);
  await form.locator('select[name="service:forum"]').selectOption('major_outage');
  await form.locator('textarea[name="message"]').fill('Le disque du serveur du **forum** est plein.');
  assert.ok(await form.locator('input[name="notify"]').isChecked(), 'subscribers are told by default');
  await Promise.all([
    staff.waitForURL(/\/admin\/incidents\/\d+$/),
    form.locator('button[name="action"][value="publish"]').click(),
  ]);
  const incidentId = Number(staff.url().match(/\/admin\/incidents\/(\d+)$/)[1]);

  const update = await until('the incident mail', () => mails().length >= 2 && mails()[1]);
  assert.equal(update.to, 'lectrice@example.org');
  assert.equal(update.subject, `[Humanoid] ${TITLE} — Enquête en cours`);
  assert.match(update.text, /Le disque du serveur du \*\*forum\*\* est plein\./, 'the update, as written');
  assert.match(update.html, /<strong>forum<\/strong>/, 'the update, rendered');
  assert.match(update.text, /Forum/);
  assert.ok(update.text.includes(`${vigie.base}/incidents/${incidentId}`), 'a link to the incident');
  // RFC 8058: a one-click address and the header that says POST works on it.
  const listUnsubscribe = update.headers['list-unsubscribe'];
  assert.match(listUnsubscribe, /^<http:\/\/127\.0\.0\.1:\d+\/subscribe\/unsubscribe\?t=[^>]+>$/);
  assert.equal(update.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');

  // The reader follows the unsubscribe link of the mail's footer.
  const unsubscribe = link(update.text, `${vigie.base}/subscribe/unsubscribe?t=`);
  assert.equal(`<${unsubscribe}>`, listUnsubscribe, 'the footer link is the one-click one');
  await reader.goto(unsubscribe);
  assert.equal(await reader.textContent('h1'), 'Se désabonner');
  await Promise.all([reader.waitForLoadState('load'), reader.click('button:has-text("Me désabonner")')]);
  assert.match(await reader.textContent('body'), /Vous êtes désabonné : votre adresse a été effacée\./);
  // Erased: the link no longer works.
  await reader.goto(unsubscribe);
  assert.match(await reader.textContent('body'), /Ce lien n'est pas valable/);
  readerProblems.length = 0; // that page answers 4xx on purpose

  // The next update reaches nobody: the console lists no subscriber, and no mail arrives.
  await staff.goto(`${vigie.base}/admin/incidents/${incidentId}`);
  const next = staff.locator(`form[action="/admin/incidents/${incidentId}/updates"]`);
  await next.locator('select[name="status"]').selectOption('identified');
  await next.locator('textarea[name="message"]').fill('Nous libérons de la place.');
  await Promise.all([
    staff.waitForURL(`${vigie.base}/admin/incidents/${incidentId}`),
    next.locator('button:has-text("Publier la mise à jour")').click(),
  ]);
  await staff.goto(vigie.base + '/admin/subscribers');
  assert.doesNotMatch(await staff.textContent('main'), /lectrice@example\.org/);
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal(mails().length, 2, 'nothing sent after unsubscribing');
});
