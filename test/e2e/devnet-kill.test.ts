/**
 * A devnet killed outright (SIGKILL: no chance to stop its children) must not leave provider daemons behind,
 * nor let them die half-way: each daemon watches the pipe the devnet holds on its standard input and, when
 * it closes, stops as on SIGTERM, closing its store (SQLite then checkpoints and removes its -wal file).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sandbox } from './harness.js';

/** Whether a process with this pid exists (orphans are re-parented and reaped, so an exited one is gone). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('akash-ip devnet killed with SIGKILL', () => {
  let box: Sandbox;

  before(async () => {
    box = await Sandbox.create();
  });
  after(async () => {
    await box.dispose();
  });

  it('takes its provider daemons down with it, each stopping cleanly', async () => {
    const { running, file } = await box.devnet();
    const pids = file.providers.map((provider) => provider.pid);
    assert.equal(pids.length, 3);
    for (const pid of pids) assert.ok(exists(pid), `provider ${pid} should run while the devnet does`);
    assert.equal(await running.stop('SIGKILL'), null);
    // Bounded: at most 300 checks, 50 ms apart.
    for (let check = 0; check < 300 && pids.some(exists); check++) await sleep(50);
    assert.deepEqual(pids.filter(exists), [], 'provider daemons outlived their killed devnet');
    for (const { name } of file.providers) {
      const wal = join(box.data, 'providers', name, 'store.sqlite-wal');
      assert.ok(!existsSync(wal), `${name} did not close its store (${wal} is left)`);
    }
  });
});
