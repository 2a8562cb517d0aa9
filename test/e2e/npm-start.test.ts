/**
 * `npm start` while a devnet runs on its folder refuses before anything is rebuilt: dist/ stays as it was.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, useFolder } from './harness.js';

/** The built CLI's modification time: a rebuild rewrites it. */
function builtAt(): number | undefined {
  return existsSync(CLI) ? statSync(CLI).mtimeMs : undefined;
}

describe('npm start with a devnet already running', () => {
  const folderOf = useFolder('akash-ip-npm-start-');

  it('refuses before rebuilding dist/', async () => {
    const folder = folderOf();
    const data = join(folder, 'devnet');
    await mkdir(data);
    // this test's own process stands for the running devnet
    await writeFile(
      join(data, 'devnet.json'),
      JSON.stringify({
        version: 1,
        pid: process.pid,
        ledger: { url: 'http://127.0.0.1:9', adminToken: 'x' },
        blockMs: 1000,
        tenant: { key: 'tenant', address: 'akash1x' },
        providers: [],
        startedAt: 0,
      }),
    );
    const before = builtAt();
    const outcome = await new Promise<{ code: number | null; stderr: string }>((done) => {
      execFile(
        'npm',
        ['start', '--silent', '--', '--data', data],
        { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
        (error, _stdout, stderr) => done({ code: error === null ? 0 : (error.code as number), stderr }),
      );
    });
    assert.equal(outcome.code, 6, outcome.stderr);
    assert.match(
      outcome.stderr,
      new RegExp(`error: UNAVAILABLE: a devnet is already running on ${data} \\(pid ${process.pid}\\)`),
    );
    assert.equal(builtAt(), before, 'dist/ was rebuilt');
  });
});
