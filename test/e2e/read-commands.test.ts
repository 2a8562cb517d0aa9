/**
 * Read commands through the built CLI, with the user's own home as the only home (no AKASH_IP_HOME): the devnet
 * in `~/.akash-ip/devnet` is found from any folder, an unknown deployment is not found (exit 3) in every read
 * command, and `-o json` output is typed (numbers, nulls), never table placeholders.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type DeploymentJson, EXAMPLE_SDL, useDevnet, useFolder } from './harness.js';

describe('read commands on a devnet in the user’s home', () => {
  const devnetOf = useDevnet({ userHome: true });
  const elsewhereOf = useFolder('akash-ip-elsewhere-');

  it('finds the devnet in ~/.akash-ip/devnet from any folder', async () => {
    const { box, devnet } = devnetOf();
    const elsewhere = elsewhereOf();
    assert.equal(devnet.tenant.key, 'tenant');
    const listed = await box.runIn(elsewhere, 'leases', '-o', 'json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), []);
    const keys = await box.runIn(elsewhere, 'keys', 'list');
    assert.match(keys.stdout, /^tenant +akash1\S+ +devnet$/m);
  });

  it('reports an unknown deployment as not found, exit 3, in every read command', async () => {
    const { box } = devnetOf();
    for (const args of [
      ['bids', '--dseq', '999'],
      ['leases', '--dseq', '999'],
      ['lease-status', '--dseq', '999'],
    ]) {
      const outcome = await box.run(...args);
      assert.equal(outcome.code, 3, `${args.join(' ')}: ${outcome.stderr}`);
      assert.match(outcome.stderr, /^error: DEPLOYMENT_NOT_FOUND: /);
      assert.equal(outcome.stdout, '');
    }
    const deployed = await box.json<DeploymentJson>('deploy', EXAMPLE_SDL);
    const bids = await box.json<unknown[]>('bids', '--dseq', deployed.dseq);
    assert.ok(bids.length > 0);
  });

  it('prints typed JSON: numbers as numbers, null for what is not known', async () => {
    const { box, running } = devnetOf();
    const pools = await box.json<Record<string, unknown>[]>('provider', 'pool');
    const byProvider = new Map(pools.map((row) => [row.provider, row]));
    const ipPool = byProvider.get('provider-2');
    assert.equal(typeof ipPool?.pool, 'string');
    for (const count of ['capacity', 'allocated', 'reserved', 'quarantined', 'available']) {
      assert.equal(typeof ipPool?.[count], 'number', `${count} of ${JSON.stringify(ipPool)}`);
    }
    assert.equal(ipPool?.error, null);
    const noPool = byProvider.get('provider-3');
    assert.deepEqual(
      {
        pool: noPool?.pool,
        family: noPool?.family,
        capacity: noPool?.capacity,
        available: noPool?.available,
      },
      { pool: null, family: null, capacity: 0, available: 0 },
    );
    const summary = JSON.parse(running.stdout) as { providers: Record<string, unknown>[] };
    for (const provider of summary.providers) {
      assert.equal(typeof provider.capacity, 'number', JSON.stringify(provider));
      assert.equal(typeof provider.free, 'number', JSON.stringify(provider));
    }
    assert.doesNotMatch(JSON.stringify(pools), /"-"|"\?"/);
  });

  it('still finds a devnet an earlier version kept in ./.akash-ip/devnet, and says so once', async () => {
    const { box, devnet } = devnetOf();
    const elsewhere = elsewhereOf();
    const legacy = join(elsewhere, '.akash-ip', 'devnet');
    await mkdir(legacy, { recursive: true });
    await writeFile(
      join(legacy, 'devnet.json'),
      JSON.stringify({ ...devnet, pid: null, blockMs: 200, startedAt: 0 }),
    );
    const outcome = await box.runIn(elsewhere, 'leases');
    assert.equal(outcome.code, 6, outcome.stderr);
    assert.match(outcome.stderr, /is stopped: start it with `akash-ip devnet --data /);
    assert.equal(
      outcome.stderr.match(/^note: using the devnet in .*\.akash-ip\/devnet, where earlier/gm)?.length,
      1,
    );
  });
});
