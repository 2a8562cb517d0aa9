import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type DevnetFile, parseDevnetFile, readDevnetFile, resolvePaths, writeDevnetFile } from './home.js';

describe('resolvePaths', () => {
  const home = join(homedir(), '.akash-ip');

  it('keeps keys and the devnet in ~/.akash-ip whatever the working folder', () => {
    const expected = { keyring: join(home, 'keys'), data: join(home, 'devnet'), legacy: false };
    assert.deepEqual(resolvePaths({}, {}, '/work'), expected);
    assert.deepEqual(resolvePaths({}, {}, '/elsewhere'), expected);
    assert.deepEqual(resolvePaths({}, { AKASH_IP_HOME: '' }, '/work'), expected);
  });

  it('puts both under AKASH_IP_HOME, and --home wins over it', () => {
    assert.deepEqual(resolvePaths({}, { AKASH_IP_HOME: '/h' }, '/work'), {
      keyring: '/h/keys',
      data: '/h/devnet',
      legacy: false,
    });
    assert.deepEqual(resolvePaths({ home: 'rel' }, { AKASH_IP_HOME: '/h' }, '/work'), {
      keyring: '/work/rel/keys',
      data: '/work/rel/devnet',
      legacy: false,
    });
  });

  it('takes --data as given, relative to the working folder', () => {
    assert.equal(resolvePaths({ data: 'dn' }, { AKASH_IP_HOME: '/h' }, '/work').data, '/work/dn');
    assert.equal(resolvePaths({ data: '/abs' }, {}, '/work').data, '/abs');
  });

  it('still finds a devnet an earlier version made in ./.akash-ip/devnet, unless a home is named', async () => {
    const work = await mkdtemp(join(tmpdir(), 'akash-ip-legacy-'));
    try {
      const legacy = join(work, '.akash-ip', 'devnet');
      assert.equal(resolvePaths({}, {}, work).legacy, false, 'an empty folder has no devnet');
      await mkdir(legacy, { recursive: true });
      await writeDevnetFile(legacy, FILE);
      assert.deepEqual(resolvePaths({}, {}, work), {
        keyring: join(home, 'keys'),
        data: legacy,
        legacy: true,
      });
      assert.equal(resolvePaths({}, { AKASH_IP_HOME: '/h' }, work).data, '/h/devnet');
      assert.equal(resolvePaths({ home: '/h' }, {}, work).data, '/h/devnet');
      assert.equal(resolvePaths({ data: '/d' }, {}, work).data, '/d');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
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
