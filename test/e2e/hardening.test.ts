/**
 * The devnet's failure paths, through the built CLI: bids no one accepts expire and give their IPs back (six cheap
 * orders once locked every free IP of both IP providers for good), and a provider that dies is started again,
 * its log kept, its files private.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getKey } from '../../src/identity/index.js';
import { LedgerClient } from '../../src/market/index.js';
import { parseSdl } from '../../src/sdl/index.js';
import { until, type WaitLimits } from '../../src/testing/wait.js';
import { type DeploymentJson, EXAMPLE_SDL, ipSdl, useSandbox } from './harness.js';

/** The devnet's providers and ledger act on timers of their own: look every 100 ms, for up to 45 s. */
const DEVNET: WaitLimits = { limitMs: 45_000, everyMs: 100 };

/** Free addresses of a provider, as its `/status` reports them. */
async function freeIps(url: string): Promise<number> {
  const response = await fetch(`${url}/status`, { signal: AbortSignal.timeout(5000) });
  const status = (await response.json()) as { ip_leases: { available: string } };
  return Number(status.ip_leases.available);
}

describe('bids no one accepts', () => {
  const boxOf = useSandbox();

  it('expire, and the IPs they held go to the tenants who wait for them', async () => {
    const box = boxOf();
    // 20 s: set-up (six orders, both pools full, the next order turned down) must end before the first bid expires,
    // and on a loaded CI machine it has taken a few seconds
    const { file } = await box.devnet('--bid-timeout', '20');
    const [one, two] = file.providers;
    assert.ok(one !== undefined && two !== undefined);
    const tenant = await getKey(join(box.data, 'keys'), 'tenant');
    assert.ok(tenant.ok);
    const ledger = new LedgerClient({ url: file.ledger.url, keys: [tenant.value.privateKey] });
    const parsed = parseSdl(ipSdl({ endpoints: ['ep-a', 'ep-b'] }));
    assert.ok(parsed.ok);
    const order = async () => {
      const created = await ledger.createDeployment({
        owner: tenant.value.address,
        groups: parsed.value.groups,
        hash: parsed.value.manifestVersion,
        deposit: { denom: 'uakt', amount: '5000000' },
      });
      assert.ok(created.ok, created.ok ? '' : created.error.message);
      return created.value.orders[0]!.id;
    };

    // six orders of two IPs each, never accepted: provider-1's 8 and provider-2's 4 addresses all held for bids
    for (let n = 0; n < 6; n++) await order();
    await until(
      async () => (await freeIps(one.url)) + (await freeIps(two.url)) === 0,
      'both IP pools held by bids',
      DEVNET,
    );
    const waiting = await order();
    const ipBidders = async () => {
      const bids = await ledger.listBids({ ...waiting, state: 'open' });
      assert.ok(bids.ok);
      return bids.value.filter((bid) => bid.id.provider === one.address || bid.id.provider === two.address)
        .length;
    };
    const declined = new RegExp(`did not bid on order [^ ]*/${waiting.dseq}/1/1: INSUFFICIENT_IPS`);
    await until(
      async () => {
        const logs = await Promise.all(
          ['provider-1', 'provider-2'].map((name) =>
            readFile(join(box.data, 'providers', name, 'daemon.log'), 'utf8'),
          ),
        );
        return logs.every((log) => declined.test(log));
      },
      'both IP providers to turn the next order down',
      DEVNET,
    );
    assert.equal(await ipBidders(), 0);

    // twenty seconds on, the providers withdraw their bids and bid, with the freed addresses, on the order that waited
    await until(async () => (await ipBidders()) > 0, 'the waiting order to get IP bids', DEVNET);
    // each bid expires on its own timer: the waiting order may get its bid when the first of provider-1's four is gone
    const expired =
      /withdrew its bid on order .*: no lease within 20000 ms: bid withdrawn, its reservation released/;
    await until(
      async () => {
        const withdrawn = await ledger.listBids({ provider: one.address, state: 'closed' });
        assert.ok(withdrawn.ok);
        const log = await readFile(join(box.data, 'providers', 'provider-1', 'daemon.log'), 'utf8');
        return withdrawn.value.length >= 4 && expired.test(log);
      },
      'provider-1 to withdraw all four of its unaccepted bids, and say so in its log',
      DEVNET,
    );

    // and a tenant deploying now gets an address as usual
    const placed = await box.json<DeploymentJson>('deploy', EXAMPLE_SDL, '--pick', 'cheapest');
    assert.equal(placed.leases[0]?.endpoints.myendpoint?.state, 'active');
  });
});

describe('a provider that dies', () => {
  const boxOf = useSandbox();

  it('is started again, its log kept, its store private', async () => {
    const box = boxOf();
    const { running, file } = await box.devnet();
    const first = file.providers[0];
    assert.ok(first !== undefined);
    process.kill(first.pid, 'SIGKILL');
    await until(
      async () => {
        const now = (await box.devnetFile()).providers[0];
        if (now === undefined || now.pid === first.pid || now.pid === 0) return false;
        try {
          return (await fetch(`${now.url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
        } catch {
          return false;
        }
      },
      'provider-1 back with a new process',
      DEVNET,
    );
    assert.match(
      running.stderr,
      /provider-1 exited \(code signal\); restart 1\/5 in 500 ms; its log .* ends:/,
    );
    const folder = join(box.data, 'providers', 'provider-1');
    const log = await readFile(join(folder, 'daemon.log'), 'utf8');
    assert.equal(log.match(/"msg":"listening"/g)?.length, 2, 'both runs are in the log');
    const mode = async (path: string) => (await stat(path)).mode & 0o777;
    assert.equal(await mode(join(folder, 'store.sqlite')), 0o600);
    assert.equal(await mode(folder), 0o700);
    // the restarted provider works as before
    const placed = await box.json<DeploymentJson>('deploy', EXAMPLE_SDL, '--provider', 'provider-1');
    assert.equal(placed.leases[0]?.endpoints.myendpoint?.state, 'active');
  });
});
