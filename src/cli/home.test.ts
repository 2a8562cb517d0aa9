import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type DevnetFile, parseDevnetFile, readDevnetFile, resolvePaths, writeDevnetFile } from './home.js';

describe('resolvePaths', () => {
  it('uses ~/.akash-ip for keys and ./.akash-ip/devnet for the devnet without a home', () => {
    assert.deepEqual(resolvePaths({}, {}, '/work'), {
      keyring: join(homedir(), '.akash-ip', 'keys'),
      data: '/work/.akash-ip/devnet',
    });
  });

  it('puts both under AKASH_IP_HOME, and --home wins over it', () => {
    assert.deepEqual(resolvePaths({}, { AKASH_IP_HOME: '/h' }, '/work'), {
      keyring: '/h/keys',
      data: '/h/devnet',
    });
    assert.deepEqual(resolvePaths({ home: 'rel' }, { AKASH_IP_HOME: '/h' }, '/work'), {
      keyring: '/work/rel/keys',
      data: '/work/rel/devnet',
    });
    assert.equal(resolvePaths({}, { AKASH_IP_HOME: '' }, '/work').data, '/work/.akash-ip/devnet');
  });

  it('takes --data as given, relative to the working folder', () => {
    assert.equal(resolvePaths({ data: 'dn' }, { AKASH_IP_HOME: '/h' }, '/work').data, '/work/dn');
    assert.equal(resolvePaths({ data: '/abs' }, {}, '/work').data, '/abs');
  });
});

const FILE: DevnetFile = {
  version: 1,
  pid: 42,
  ledger: { url: 'http://127.0.0.1:1', adminToken: 'secret' },
  blockMs: 200,
  tenant: { key: 'tenant', address: 'akash1tenant' },
  providers: [
    {
      name: 'provider-1',
      address: 'akash1p1',
      url: 'http://127.0.0.1:2',
      ipLease: true,
      pools: ['203.0.113.0/29'],
      config: '/d/providers/provider-1/provider.yaml',
      log: '/d/providers/provider-1/daemon.log',
      pid: 43,
    },
  ],
  startedAt: 1,
};

describe('devnet.json', () => {
  it('round-trips, readable by its owner only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'akash-ip-home-'));
    try {
      await writeDevnetFile(dir, FILE);
      assert.equal((await stat(join(dir, 'devnet.json'))).mode & 0o777, 0o600);
      const read = await readDevnetFile(dir);
      assert.ok(read.ok);
      assert.deepEqual(read.value, FILE);
      assert.deepEqual(JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')), FILE);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tells how to start a devnet when there is none', async () => {
    const read = await readDevnetFile('/nonexistent/akash-ip');
    assert.ok(!read.ok);
    assert.equal(read.error.code, 'NOT_FOUND');
    assert.match(read.error.message, /start one with `akash-ip devnet --data \/nonexistent\/akash-ip`/);
  });

  it('refuses text that is not a devnet file, saying what to do', () => {
    for (const text of ['not json', '{}', JSON.stringify({ ...FILE, version: 2 })]) {
      const parsed = parseDevnetFile(text, '/d/devnet.json');
      assert.ok(!parsed.ok);
      assert.equal(parsed.error.code, 'INVALID_INPUT');
      assert.match(parsed.error.message, /^\/d\/devnet\.json .*delete it and restart the devnet$/);
    }
  });
});
