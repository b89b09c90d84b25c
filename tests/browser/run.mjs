// Runs the browser scenarios against the real server.
//
//   node tests/browser/run.mjs            (from anywhere; see README.md)
//
// 1. copies the data set to a temp dir (updates write there, never to the repository);
// 2. makes field, planner and admin tokens with `renewal-map token add` (issue 3); if that command is missing
//    the write scenarios fail and say so;
// 3. starts the release binary on 127.0.0.1 at a free port with --web web and a fixed --today;
// 4. runs `node --test` over scenarios/*.test.mjs with BASE_URL etc. in the environment;
// 5. stops the server and removes the temp dir. Exit code is node --test's.
//
// Environment: RENEWAL_MAP_BIN (default $CARGO_TARGET_DIR/release/renewal-map, built with
// `cargo build --release` if missing), RENEWAL_MAP_DATA (default data/huanggu),
// CHROMIUM (default /usr/bin/chromium), TODAY (default 2026-11-01).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target');
const bin = process.env.RENEWAL_MAP_BIN ?? path.join(targetDir, 'release', 'renewal-map');
const dataSrc = path.resolve(root, process.env.RENEWAL_MAP_DATA ?? 'data/huanggu');
const webDir = path.join(root, 'web');
const today = process.env.TODAY ?? '2026-11-01';

function fail(msg) {
  console.error(`browser tests: ${msg}`);
  process.exit(2);
}

if (!fs.existsSync(path.join(webDir, 'node_modules', 'maplibre-gl', 'dist', 'maplibre-gl.js'))) {
  fail('web/node_modules/maplibre-gl is missing: run `npm ci --prefix web` first');
}
if (!fs.existsSync(path.join(here, 'node_modules', 'playwright-core'))) {
  fail('tests/browser/node_modules is missing: run `npm ci --prefix tests/browser` first');
}
if (!fs.existsSync(path.join(dataSrc, 'sites.geojson'))) {
  fail(`no data set at ${dataSrc} (set RENEWAL_MAP_DATA)`);
}
if (!process.env.RENEWAL_MAP_BIN) {
  const b = spawnSync('cargo', ['build', '--release', '--quiet'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) fail('cargo build --release failed');
}
if (!fs.existsSync(bin)) fail(`no server binary at ${bin}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'renewal-map-browser-'));
const dataDir = path.join(tmp, 'data');
fs.cpSync(dataSrc, dataDir, { recursive: true });
const shotDir = path.join(root, 'artifacts', 'screenshots');
fs.mkdirSync(shotDir, { recursive: true });

/** Makes a token with the CLI; returns { token } or { error } naming what went wrong. */
function makeToken(args) {
  const r = spawnSync(bin, ['token', 'add', ...args, '--data', dataDir], { encoding: 'utf8' });
  if (r.status !== 0) {
    return { error: `\`renewal-map token add\` failed (exit ${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' ')}` };
  }
  const token = r.stdout.trim().split(/\s+/).pop();
  return token ? { token } : { error: '`renewal-map token add` printed no token' };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(base, server, ms = 30000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (server.exitCode != null) throw new Error(`server exited with ${server.exitCode}`);
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server not healthy after ${ms} ms`);
}

const field = makeToken(['--role', 'field', '--team', '三台子街道', '--name', 'Team 3']);
const field2 = makeToken(['--role', 'field', '--team', '三台子街道', '--name', 'Team 3b']);
const planner = makeToken(['--role', 'planner', '--name', 'Planner 1']);
const admin = makeToken(['--role', 'admin', '--name', 'Admin 1']);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const serverLog = fs.openSync(path.join(tmp, 'server.log'), 'a');
const server = spawn(bin, ['serve', '--data', dataDir, '--bind', `127.0.0.1:${port}`, '--web', webDir, '--today', today,
  // The proxy scenario's proxy runs here: its X-Forwarded-* headers are believed.
  '--trusted-proxy', '127.0.0.1'], {
  cwd: root,
  stdio: ['ignore', serverLog, serverLog],
});
let code = 1;
try {
  await waitHealthy(base, server);
  const files = fs
    .readdirSync(path.join(here, 'scenarios'))
    .filter((f) => f.endsWith('.test.mjs'))
    .sort()
    .map((f) => path.join(here, 'scenarios', f));
  const env = {
    ...process.env,
    BASE_URL: base,
    SCREENSHOT_DIR: shotDir,
    FIELD_TOKEN: field.token ?? '',
    FIELD_TOKEN_ERROR: field.error ?? '',
    FIELD_TOKEN_2: field2.token ?? '',
    PLANNER_TOKEN: planner.token ?? '',
    ADMIN_TOKEN: admin.token ?? '',
    // For scenarios that start a second server over a changed copy of the data (server.mjs).
    RENEWAL_MAP_BIN: bin,
    RENEWAL_MAP_DATA_COPY: dataDir,
    RENEWAL_MAP_WEB: webDir,
    TODAY: today,
  };
  // Files to run (default: every scenario); `--test-name-pattern=…` and other flags pass through.
  const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const args = ['--test', '--test-concurrency=1', ...flags, ...(only.length ? only.map((f) => path.resolve(f)) : files)];
  const t = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  code = t.status ?? 1;
} catch (e) {
  console.error(`browser tests: ${e.message}`);
  console.error(fs.readFileSync(path.join(tmp, 'server.log'), 'utf8').split('\n').slice(-20).join('\n'));
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => (server.exitCode != null ? r() : server.once('exit', r)));
  if (code !== 0) {
    console.error('--- server log (last 20 lines) ---');
    console.error(fs.readFileSync(path.join(tmp, 'server.log'), 'utf8').split('\n').slice(-20).join('\n'));
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
