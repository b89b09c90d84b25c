// A second renewal-map server for scenarios that need other data (e.g. a data set marked
// real): copies the run's data set, lets the scenario change the copy, and serves it on a
// free 127.0.0.1 port. Needs the environment run.mjs sets.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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

/**
 * Starts a server over a copy of the data set after `change(dir)` edited it.
 * Returns { base, stop }.
 */
export async function startServer(change) {
  const bin = process.env.RENEWAL_MAP_BIN;
  const src = process.env.RENEWAL_MAP_DATA_COPY;
  if (!bin || !src) throw new Error('RENEWAL_MAP_BIN / RENEWAL_MAP_DATA_COPY not set: run with tests/browser/run.mjs');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'renewal-map-second-'));
  const dir = path.join(tmp, 'data');
  fs.cpSync(src, dir, { recursive: true, filter: (f) => !/renewal\.sqlite|serve\.lock/.test(path.basename(f)) });
  await change(dir);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = fs.openSync(path.join(tmp, 'server.log'), 'a');
  const server = spawn(bin, ['serve', '--data', dir, '--bind', `127.0.0.1:${port}`, '--web', process.env.RENEWAL_MAP_WEB, '--today', process.env.TODAY ?? '2026-11-01'], {
    stdio: ['ignore', log, log],
  });
  const until = Date.now() + 30000;
  for (;;) {
    if (server.exitCode != null) throw new Error(`second server exited: ${fs.readFileSync(path.join(tmp, 'server.log'), 'utf8')}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error('second server not healthy after 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    async stop() {
      server.kill('SIGTERM');
      await new Promise((r) => (server.exitCode != null ? r() : server.once('exit', r)));
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
