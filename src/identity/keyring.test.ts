import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addKey, defaultKeyringDir, deleteKey, getKey, importKey, listKeys } from './keyring.js';
import { addressOf, publicKeyOf } from './keys.js';
import { CHAIN_SDK_ACCOUNT, toHex } from './testing.js';

let root: string;
let counter = 0;
/** A fresh keyring folder path (not yet created) inside the suite's temp dir. */
const freshDir = (): string => join(root, `ring-${++counter}`, 'keys');
const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'akash-ip-keyring-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('keyring: writing keys', () => {
  it('creates the folder 0700 and each key file 0600, with the documented JSON', async () => {
    const dir = freshDir();
    const added = await addKey(dir, 'alice');
    assert.ok(added.ok);
    assert.equal(await modeOf(dir), 0o700);
    assert.equal(await modeOf(join(dir, 'alice.json')), 0o600);
    const file = JSON.parse(await readFile(join(dir, 'alice.json'), 'utf8'));
    assert.deepEqual(Object.keys(file), ['name', 'algo', 'address', 'pubkey', 'privateKey']);
    assert.equal(file.name, 'alice');
    assert.equal(file.algo, 'secp256k1');
    assert.equal(file.address, added.value.address);
    assert.equal(file.pubkey, toHex(added.value.publicKey));
    assert.match(file.privateKey, /^[0-9a-f]{64}$/);
    assert.deepEqual(await readdir(dir), ['alice.json'], 'no temporary file is left behind');
  });

  it('imports a hex private key and derives its address', async () => {
    const dir = freshDir();
    const imported = await importKey(dir, 'chain-sdk', `0x${CHAIN_SDK_ACCOUNT.privateKeyHex}`);
    assert.ok(imported.ok);
    assert.equal(imported.value.address, CHAIN_SDK_ACCOUNT.address);
    assert.equal(toHex(imported.value.publicKey), CHAIN_SDK_ACCOUNT.publicKeyHex);
    const bad = await importKey(dir, 'bad', 'xyz');
    assert.ok(!bad.ok);
    assert.equal(bad.error.code, 'INVALID_INPUT');
  });

  it('never overwrites a key unless forced', async () => {
    const dir = freshDir();
    const first = await addKey(dir, 'bob');
    assert.ok(first.ok);
    const again = await addKey(dir, 'bob');
    assert.ok(!again.ok);
    assert.equal(again.error.code, 'KEY_EXISTS');
    const imported = await importKey(dir, 'bob', CHAIN_SDK_ACCOUNT.privateKeyHex);
    assert.ok(!imported.ok);
    const kept = await getKey(dir, 'bob');
    assert.ok(kept.ok);
    assert.equal(kept.value.address, first.value.address);

    const forced = await importKey(dir, 'bob', CHAIN_SDK_ACCOUNT.privateKeyHex, { force: true });
    assert.ok(forced.ok);
    const replaced = await getKey(dir, 'bob');
    assert.ok(replaced.ok);
    assert.equal(replaced.value.address, CHAIN_SDK_ACCOUNT.address);
    assert.equal(await modeOf(join(dir, 'bob.json')), 0o600);
    assert.deepEqual(await readdir(dir), ['bob.json']);
  });

  it('refuses names that could escape the folder or collide by case', async () => {
    const dir = freshDir();
    for (const name of [
      '',
      '../evil',
      'a/b',
      '.hidden',
      'Alice',
      'x'.repeat(65),
      'a.json',
      '-dash',
      'sp ace',
    ]) {
      const added = await addKey(dir, name);
      assert.ok(!added.ok, name);
      assert.equal(added.error.code, 'INVALID_INPUT');
    }
    assert.ok((await addKey(dir, 'ok_name-2')).ok);
  });

  it('refuses to write into a folder others can read', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chmod(dir, 0o755);
    const added = await addKey(dir, 'carol');
    assert.ok(!added.ok);
    assert.equal(added.error.code, 'KEYRING_INVALID');
  });
});

describe('keyring: reading keys', () => {
  it('gets a key with a private key matching its public facts', async () => {
    const dir = freshDir();
    const added = await addKey(dir, 'dave');
    assert.ok(added.ok);
    const key = await getKey(dir, 'dave');
    assert.ok(key.ok);
    assert.equal(key.value.name, 'dave');
    assert.deepEqual(publicKeyOf(key.value.privateKey), added.value.publicKey);
    assert.equal(addressOf(key.value.publicKey), added.value.address);
  });

  it('lists keys sorted by name without their secrets; a missing folder is empty', async () => {
    const dir = freshDir();
    assert.deepEqual(await listKeys(dir), { ok: true, value: [] });
    for (const name of ['zed', 'amy', 'mid']) assert.ok((await addKey(dir, name)).ok);
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    const listed = await listKeys(dir);
    assert.ok(listed.ok);
    assert.deepEqual(
      listed.value.map((k) => k.name),
      ['amy', 'mid', 'zed'],
    );
    for (const key of listed.value) assert.ok(!('privateKey' in key));
  });

  it('reports a missing key as NOT_FOUND', async () => {
    const missing = await getKey(freshDir(), 'nobody');
    assert.ok(!missing.ok);
    assert.equal(missing.error.code, 'NOT_FOUND');
  });

  it('refuses a key file that group or others can read', async () => {
    const dir = freshDir();
    assert.ok((await addKey(dir, 'erin')).ok);
    await chmod(join(dir, 'erin.json'), 0o644);
    const key = await getKey(dir, 'erin');
    assert.ok(!key.ok);
    assert.equal(key.error.code, 'KEYRING_INVALID');
  });

  it('refuses corrupt or inconsistent key files', async () => {
    const dir = freshDir();
    assert.ok((await importKey(dir, 'frank', CHAIN_SDK_ACCOUNT.privateKeyHex)).ok);
    const path = join(dir, 'frank.json');
    const original = JSON.parse(await readFile(path, 'utf8'));
    const variants = [
      'not json',
      JSON.stringify({ ...original, name: 'someone-else' }),
      JSON.stringify({ ...original, address: 'akash1hsk6jryyqjfhp5dhc55tc9jtckygx0eph6dd02' }),
      JSON.stringify({ ...original, privateKey: '00'.repeat(32) }),
      JSON.stringify({ ...original, extra: true }),
    ];
    for (const body of variants) {
      await writeFile(path, body, { mode: 0o600 });
      const key = await getKey(dir, 'frank');
      assert.ok(!key.ok, body);
      assert.equal(key.error.code, 'KEYRING_INVALID');
      const listed = await listKeys(dir);
      assert.ok(!listed.ok);
    }
  });
});

describe('keyring: deleting keys', () => {
  it('deletes a key, even a corrupt one, and reports a second delete as NOT_FOUND', async () => {
    const dir = freshDir();
    const added = await addKey(dir, 'gina');
    assert.ok(added.ok);
    assert.deepEqual(await deleteKey(dir, 'gina'), { ok: true, value: undefined });
    assert.deepEqual(await readdir(dir), []);
    const again = await deleteKey(dir, 'gina');
    assert.ok(!again.ok);
    assert.equal(again.error.code, 'NOT_FOUND');
    await writeFile(join(dir, 'broken.json'), 'not json', { mode: 0o600 });
    assert.ok((await deleteKey(dir, 'broken')).ok);
    const invalid = await deleteKey(dir, '../x');
    assert.ok(!invalid.ok);
    assert.equal(invalid.error.code, 'INVALID_INPUT');
  });
});

describe('defaultKeyringDir', () => {
  it('uses AKASH_IP_HOME when set, else ~/.akash-ip', () => {
    assert.equal(defaultKeyringDir({ AKASH_IP_HOME: '/srv/akash-ip' }), '/srv/akash-ip/keys');
    assert.equal(defaultKeyringDir({}), join(homedir(), '.akash-ip', 'keys'));
    assert.equal(defaultKeyringDir({ AKASH_IP_HOME: '' }), join(homedir(), '.akash-ip', 'keys'));
  });
});
