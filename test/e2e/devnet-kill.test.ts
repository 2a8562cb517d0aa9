/**
 * A devnet killed outright (SIGKILL: no chance to stop its children) must not leave provider daemons behind,
 * nor let them die half-way: each daemon watches the pipe the devnet holds on its standard input and, when
 * it closes, stops as on SIGTERM, closing its store (SQLite then checkpoints and removes its -wal file).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { until } from '../../src/testing/wait.js';
import { useSandbox } from './harness.js';

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
  const boxOf = useSandbox();

  it('takes its provider daemons down with it, each stopping cleanly', async () => {
    const box = boxOf();
    const { running, file } = await box.devnet();
    const pids = file.providers.map((provider) => provider.pid);
    assert.equal(pids.length, 3);
    for (const pid of pids) assert.ok(exists(pid), `provider ${pid} should run while the devnet does`);
    assert.equal(await running.stop('SIGKILL'), null);
    await until(() => !pids.some(exists), 'the provider daemons to exit with their killed devnet', {
      limitMs: 15_000,
      everyMs: 50,
    });
    for (const { name } of file.providers) {
      const wal = join(box.data, 'providers', name, 'store.sqlite-wal');
      assert.ok(!existsSync(wal), `${name} did not close its store (${wal} is left)`);
    }
  });
});
