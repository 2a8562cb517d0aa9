import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PRICING } from '../market/index.js';
import { loadConfig, parseConfig } from './config.js';

const options = { defaultKeyring: '/keys/default' };
const example = join(dirname(fileURLToPath(import.meta.url)), '../../examples/provider.yaml');

function refusal(text: string): { message: string; line: unknown; col: unknown } {
  const parsed = parseConfig(text, '/etc/akash-ip/provider.yaml', options);
  assert.equal(parsed.ok, false);
  if (parsed.ok) throw new Error('unreachable');
  assert.equal(parsed.error.code, 'INVALID_INPUT');
  return { message: parsed.error.message, line: parsed.error.details?.line, col: parsed.error.details?.col };
}

describe('provider configuration', () => {
  it('fills defaults and resolves paths against the file', () => {
    const parsed = parseConfig('provider:\n  key: p1\n', '/etc/akash-ip/provider.yaml', options);
    assert.ok(parsed.ok);
    const config = parsed.value;
    assert.deepEqual(config.identity, { keyring: '/keys/default', key: 'p1' });
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(config.store, { kind: 'memory' });
    assert.deepEqual(config.pools, []);
    assert.deepEqual(config.attributes, []);
    assert.equal(config.pricing, DEFAULT_PRICING);
    assert.equal(config.ledger, undefined);
    assert.ok(Object.isFrozen(config.limits));

    const relative = parseConfig(
      'provider: {key: p1, keyring: keys}\nstore: {kind: sqlite, path: data/p.db}\npools: [{name: a, addresses: [192.0.2.0/28]}]\n',
      '/etc/akash-ip/provider.yaml',
      options,
    );
    assert.ok(relative.ok);
    assert.equal(relative.value.identity.keyring, resolve('/etc/akash-ip/keys'));
    assert.deepEqual(relative.value.store, { kind: 'sqlite', path: resolve('/etc/akash-ip/data/p.db') });
    assert.deepEqual(relative.value.attributes, [{ key: 'ip-lease', value: 'true' }]);
  });

  it('reads JSON too, and merges pricing onto the defaults', () => {
    const parsed = parseConfig(
      JSON.stringify({ provider: { key: 'p1' }, pricing: { usdPerMonth: { ip: 7, storage: { beta3: 1 } } } }),
      'p.json',
      options,
    );
    assert.ok(parsed.ok);
    assert.equal(parsed.value.pricing.usdPerMonth.ip, 7);
    assert.equal(parsed.value.pricing.usdPerMonth.cpu, DEFAULT_PRICING.usdPerMonth.cpu);
    assert.equal(parsed.value.pricing.usdPerMonth.storage.beta3, 1);
    assert.equal(
      parsed.value.pricing.usdPerMonth.storage.ephemeral,
      DEFAULT_PRICING.usdPerMonth.storage.ephemeral,
    );
  });

  it('parses the shipped example', async () => {
    const loaded = await loadConfig(example, options);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.message);
    assert.equal(loaded.value.pools[0]?.name, 'public-v4');
    assert.equal(loaded.value.ledger?.url, 'http://127.0.0.1:26657');
    assert.ok(readFileSync(example, 'utf8').includes('203.0.113.0/28'));
  });

  it('points at the line and column of what it refuses', () => {
    assert.deepEqual(refusal('provider:\n  key: p1\nlisten:\n  prot: 3\n'), {
      message: '/etc/akash-ip/provider.yaml:4:3: listen.prot: Unrecognized key: "prot"',
      line: 4,
      col: 3,
    });
    const port = refusal('provider:\n  key: p1\nlisten:\n  port: 70000\n');
    assert.equal(port.line, 4);
    assert.equal(port.col, 9);
    assert.match(port.message, /listen\.port/);
    const pool = refusal(
      'provider: {key: p1}\npools:\n  - name: a\n    addresses: [192.0.2.0/28]\n  - name: b\n    addresses: [300.1.2.3]\n',
    );
    assert.equal(pool.line, 5);
    assert.match(pool.message, /pools\[1\]/);
    const overlap = refusal(
      'provider: {key: p1}\npools:\n  - {name: a, addresses: [192.0.2.0/28]}\n  - {name: b, addresses: [192.0.2.8/29]}\n',
    );
    assert.match(overlap.message, /pools/);
    const missing = refusal('listen: {port: 1}\n');
    assert.match(missing.message, /provider/);
    const syntax = refusal('provider:\n  key: [p1\n');
    assert.match(syntax.message, /^\/etc\/akash-ip\/provider\.yaml:\d+:\d+: /);
    const duplicate = refusal('provider: {key: p1}\nprovider: {key: p2}\n');
    assert.equal(duplicate.line, 2);
  });

  it('refuses an IP-lease attribute without a pool, and bad tenants', () => {
    assert.match(
      refusal('provider: {key: p1}\nattributes: [{key: ip-lease, value: "true"}]\n').message,
      /advertises ip-lease/,
    );
    assert.match(
      refusal('provider: {key: p1}\ntenants: [{address: akash1nope, pubkey: "02"}]\n').message,
      /tenants\[0\]\.address/,
    );
    assert.match(refusal('provider: {key: p1}\nledger: {url: "ftp://x"}\n').message, /ledger\.url/);
    assert.match(refusal('provider: {key: p1}\nadminToken: short\n').message, /adminToken/);
  });

  it('says when the file cannot be read', async () => {
    const loaded = await loadConfig('/nonexistent/provider.yaml', options);
    assert.ok(!loaded.ok);
    assert.match(loaded.error.message, /no such file/);
  });
});
