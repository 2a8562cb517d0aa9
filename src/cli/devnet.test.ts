import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../daemon/index.js';
import {
  cliCommand,
  DEFAULT_PROVIDERS,
  lastLinesOf,
  MAX_LOG_BYTES,
  providerConfig,
  rotateLog,
} from './devnet.js';

describe('devnet providers', () => {
  it('are two IP providers with pools of different sizes in documentation ranges, and one without', () => {
    assert.deepEqual(
      DEFAULT_PROVIDERS.map((plan) => plan.pool),
      [['203.0.113.1-203.0.113.8', '2001:db8:1::1-2001:db8:1::8'], ['198.51.100.1-198.51.100.4'], []],
    );
    const names = DEFAULT_PROVIDERS.map((plan) => plan.name);
    assert.equal(new Set(names).size, names.length);
  });

  it('get configurations the daemon accepts, advertising ip-lease only with a pool', () => {
    for (const plan of DEFAULT_PROVIDERS) {
      const file = `/data/providers/${plan.name}/provider.yaml`;
      const parsed = parseConfig(providerConfig(plan, 'http://127.0.0.1:26657', 5000), file, {
        defaultKeyring: '/unused',
      });
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      const config = parsed.value;
      assert.deepEqual(config.identity, { keyring: '/data/keys', key: plan.name });
      assert.deepEqual(config.listen, { host: '127.0.0.1', port: 0 });
      assert.deepEqual(config.store, { kind: 'sqlite', path: `/data/providers/${plan.name}/store.sqlite` });
      assert.equal(config.ledger?.url, 'http://127.0.0.1:26657');
      assert.equal(config.quarantineMs, 5000);
      assert.equal(config.ledger?.bidTimeoutMs, 300_000);
      assert.equal(config.pricing.usdPerMonth.ip, plan.ipUsdPerMonth);
      const ipLease = config.attributes.find((attribute) => attribute.key === 'ip-lease')?.value;
      assert.equal(ipLease, plan.pool.length > 0 ? 'true' : undefined);
      // the dual-stack pool's provider alone offers IPv6, both dual-stack and IPv6-only
      const ipv6 = config.attributes.filter((attribute) => attribute.key.startsWith('ip-lease-ipv6'));
      assert.deepEqual(
        ipv6.map((attribute) => `${attribute.key}=${attribute.value}`),
        plan.name === 'provider-1' ? ['ip-lease-ipv6=true', 'ip-lease-ipv6-only=true'] : [],
      );
      assert.deepEqual(
        config.pools.flatMap((pool) => pool.addresses),
        [...plan.pool],
      );
    }
  });

  it('runs this CLI again through the same entry point', () => {
    const cli = cliCommand();
    assert.equal(cli.command, process.execPath);
    // under tsx (these tests) the source entry point is loaded through tsx; built, main.js directly
    assert.match(cli.args.at(-1) ?? '', /src\/cli\/main\.(ts|js)$/);
  });

  it('keep their logs across restarts: a log past the cap moves to .1, and the last lines are read from its end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'akash-ip-devnet-log-'));
    try {
      const log = join(dir, 'daemon.log');
      await rotateLog(log);
      assert.equal(existsSync(log), false, 'no log yet: nothing to do');
      const lines = Array.from({ length: 30 }, (_, n) => `{"msg":"line ${n}"}`);
      writeFileSync(log, `${lines.join('\n')}\n`);
      assert.deepEqual(await lastLinesOf(log, 3), lines.slice(-3));
      await rotateLog(log);
      assert.equal(existsSync(log), true, 'a small log stays where it is');
      writeFileSync(log, 'x'.repeat(MAX_LOG_BYTES + 1));
      await rotateLog(log);
      assert.equal(existsSync(log), false);
      assert.equal(readFileSync(`${log}.1`, 'utf8').length, MAX_LOG_BYTES + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
