// Shared end2end harness: starts a real `vigie serve` on a free loopback port with a fresh
// SQLite database, and Debian's Chromium driven by playwright-core.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The binary under test: `VIGIE_BIN`, else the debug build of this checkout. */
export function vigieBin() {
  return process.env.VIGIE_BIN || path.join(root, 'target/debug/vigie');
}

/** A staff account made as an operator makes one, with `vigie user add` on the SQLite
 * `database` the server will use, run in `dir`; returns what the command printed. */
export function addStaff({ config, database, dir, email, role, password }) {
  return execFileSync(vigieBin(), ['--config', config, 'user', 'add', email, '--role', role, '--password-stdin'], {
    cwd: dir,
    env: { ...process.env, VIGIE_DATABASE_URL: database, RUST_LOG: 'warn' },
    input: `${password}\n`,
    encoding: 'utf8',
  });
}

/** Signs `page` in to the console of the Vigie at `base`; resolves on the incidents list. */
export async function signIn(page, base, email, password) {
  await page.goto(base + '/admin/login');
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(base + '/admin/incidents'), page.click('form.login-form button.button-primary')]);
}

/** Starts Vigie; resolves once it answers /healthz. `port`: a port chosen beforehand (to write
 * the catalog's `base_url`), else a free one. */
export async function startVigie({ config = path.join(root, 'config/humanoid.toml'), args = [], port: wanted } = {}) {
  const bin = vigieBin();
  const dir = mkdtempSync(path.join(tmpdir(), 'vigie-e2e-'));
  const port = wanted ?? (await freePort());
  const child = spawn(bin, ['--config', config, 'serve', '--listen', `127.0.0.1:${port}`, ...args], {
    cwd: dir, // assets are embedded: the binary must not need the repository as its directory
    env: { ...process.env, VIGIE_DATABASE_URL: `sqlite://${dir}/vigie.db?mode=rwc`, RUST_LOG: process.env.VIGIE_E2E_LOG || 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigie exited early (${child.exitCode}):\n${output}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`vigie did not start in 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Playwright gives every launch a fresh, empty profile directory of its own (it refuses a
// --user-data-dir flag), so no state leaks between runs.
export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** Records console errors, page errors, failed requests and HTTP errors of a page. */
export function watchProblems(page) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return problems;
}

/**
 * Whether a recorded problem is only a request the browser cut because the page was left: the
 * live stream (`/events`) and a live refresh (`/_fn/overview`, `/_fn/home_extras`) still in
 * flight when a test clicks to another page. Nothing failed on the server's side.
 */
export function cutByLeaving(problem) {
  return /\/(events|_fn\/(overview|home_extras)\?\S*) net::ERR_ABORTED$/.test(problem);
}

/** The names of every service in a catalog file, read from its `[[services]]` tables. */
export function serviceNames(text) {
  return [...text.matchAll(/^\[\[services\]\]\s*\nid = "[^"]+"\s*\nname = "([^"]+)"/gm)].map((m) => m[1]);
}
