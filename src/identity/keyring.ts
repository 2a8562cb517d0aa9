/**
 * A file keyring: one JSON file per key name in a private folder (0700), each file 0600.
 * This is the only part of src/identity that touches the file system; the crypto lives in pure modules.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { hex } from '@scure/base';
import { z } from 'zod';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { addressOf, generatePrivateKey, parsePrivateKeyHex, publicKeyOf } from './keys.js';

/** A key's public facts. */
export interface KeyInfo {
  readonly name: string;
  readonly address: string;
  /** Compressed 33-byte secp256k1 public key. */
  readonly publicKey: Uint8Array;
}

/** A key with its secret, for signing. */
export interface Key extends KeyInfo {
  readonly privateKey: Uint8Array;
}

/** Codes the keyring returns. */
export type KeyringError = AppError<
  'INVALID_INPUT' | 'NOT_FOUND' | 'KEY_EXISTS' | 'KEYRING_INVALID' | 'UNAVAILABLE'
>;

export interface WriteKeyOptions {
  /** Replace an existing key of the same name. */
  readonly force?: boolean;
}

/** Key names: lowercase so that case-insensitive file systems cannot merge two keys. */
export const KEY_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const GROUP_OR_OTHER = 0o077;
const FILE_SUFFIX = '.json';

const keyFileSchema = z.strictObject({
  name: z.string(),
  algo: z.literal('secp256k1'),
  address: z.string(),
  pubkey: z.string().regex(/^[0-9a-f]{66}$/),
  privateKey: z.string().regex(/^[0-9a-f]{64}$/),
});

/** `$AKASH_IP_HOME/keys`, or `~/.akash-ip/keys` when the variable is unset. */
export function defaultKeyringDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.AKASH_IP_HOME;
  return join(home !== undefined && home !== '' ? home : join(homedir(), '.akash-ip'), 'keys');
}

/** Creates a new random key under `name`; refuses to replace an existing one unless `force` is set. */
export async function addKey(
  dir: string,
  name: string,
  options: WriteKeyOptions = {},
): Promise<Result<KeyInfo, KeyringError>> {
  return writeKey(dir, name, generatePrivateKey(), options);
}

/** Stores an existing private key (64 hex digits) under `name`. */
export async function importKey(
  dir: string,
  name: string,
  privateKeyHex: string,
  options: WriteKeyOptions = {},
): Promise<Result<KeyInfo, KeyringError>> {
  const privateKey = parsePrivateKeyHex(privateKeyHex);
  if (!privateKey.ok) return privateKey;
  return writeKey(dir, name, privateKey.value, options);
}

/** Reads a key with its secret. Refuses a key file that group or others can access, as ssh does. */
export async function getKey(dir: string, name: string): Promise<Result<Key, KeyringError>> {
  const checked = checkName(name);
  if (!checked.ok) return checked;
  const path = keyPath(dir, name);
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    return ioFailure(error, `key "${name}"`, path);
  }
  if ((mode & GROUP_OR_OTHER) !== 0) {
    return fail(
      appError('KEYRING_INVALID', `key file ${path} is accessible by others; run chmod 600 on it`, { path }),
    );
  }
  return readKeyFile(path, name);
}

/** Lists every key's public facts, sorted by name. A missing folder is an empty keyring. */
export async function listKeys(dir: string): Promise<Result<KeyInfo[], KeyringError>> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return ok([]);
    return ioFailure(error, 'keyring folder', dir);
  }
  const names = entries
    .filter((entry) => entry.endsWith(FILE_SUFFIX))
    .map((entry) => entry.slice(0, -FILE_SUFFIX.length))
    .filter((name) => KEY_NAME_PATTERN.test(name))
    .sort();
  const keys: KeyInfo[] = [];
  for (const name of names) {
    const key = await readKeyFile(keyPath(dir, name), name);
    if (!key.ok) return key;
    keys.push({ name: key.value.name, address: key.value.address, publicKey: key.value.publicKey });
  }
  return ok(keys);
}

/** Deletes a key, even one whose file is unreadable or corrupt. */
export async function deleteKey(dir: string, name: string): Promise<Result<void, KeyringError>> {
  const checked = checkName(name);
  if (!checked.ok) return checked;
  const path = keyPath(dir, name);
  try {
    await unlink(path);
  } catch (error) {
    return ioFailure(error, `key "${name}"`, path);
  }
  return ok(undefined);
}

async function writeKey(
  dir: string,
  name: string,
  privateKey: Uint8Array,
  options: WriteKeyOptions,
): Promise<Result<KeyInfo, KeyringError>> {
  const checked = checkName(name);
  if (!checked.ok) return checked;
  const folder = await ensurePrivateFolder(dir);
  if (!folder.ok) return folder;

  const publicKey = publicKeyOf(privateKey);
  const info: KeyInfo = { name, address: addressOf(publicKey), publicKey };
  const body = {
    name,
    algo: 'secp256k1',
    address: info.address,
    pubkey: hex.encode(publicKey),
    privateKey: hex.encode(privateKey),
  } satisfies z.infer<typeof keyFileSchema>;

  // Write a private temporary file, then publish it in one step: readers never see a half-written key,
  // and without `force` the hard link fails atomically if the name is taken.
  const path = keyPath(dir, name);
  const temporary = join(dir, `.${name}.${randomUUID()}.tmp`);
  try {
    const handle = await open(temporary, 'wx', FILE_MODE);
    try {
      await handle.chmod(FILE_MODE);
      await handle.writeFile(`${JSON.stringify(body, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.force === true) {
      await rename(temporary, path);
    } else {
      await link(temporary, path);
    }
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') {
      return fail(appError('KEY_EXISTS', `key "${name}" already exists; pass force to replace it`, { name }));
    }
    return ioFailure(error, `key "${name}"`, path);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return ok(info);
}

async function ensurePrivateFolder(dir: string): Promise<Result<void, KeyringError>> {
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    const { mode } = await stat(dir);
    if ((mode & GROUP_OR_OTHER) !== 0) {
      return fail(
        appError('KEYRING_INVALID', `keyring folder ${dir} is accessible by others; run chmod 700 on it`, {
          path: dir,
        }),
      );
    }
  } catch (error) {
    return ioFailure(error, 'keyring folder', dir);
  }
  return ok(undefined);
}

async function readKeyFile(path: string, name: string): Promise<Result<Key, KeyringError>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return ioFailure(error, `key "${name}"`, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return corrupt(path, 'it is not JSON');
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success) return corrupt(path, 'its fields do not match the key file format');
  const file = parsed.data;
  const privateKey = parsePrivateKeyHex(file.privateKey);
  if (!privateKey.ok) return corrupt(path, 'its private key is not a valid secp256k1 key');
  const publicKey = publicKeyOf(privateKey.value);
  const address = addressOf(publicKey);
  if (file.name !== name || file.pubkey !== hex.encode(publicKey) || file.address !== address) {
    return corrupt(path, 'its name, public key or address does not match its private key');
  }
  return ok({ name, address, publicKey, privateKey: privateKey.value });
}

function checkName(name: string): Result<void, KeyringError> {
  return KEY_NAME_PATTERN.test(name)
    ? ok(undefined)
    : fail(
        appError(
          'INVALID_INPUT',
          `key name "${name}" must be 1-64 of a-z, 0-9, "_" and "-", starting with a letter or digit`,
        ),
      );
}

function keyPath(dir: string, name: string): string {
  return join(dir, `${name}${FILE_SUFFIX}`);
}

function corrupt(path: string, why: string): { readonly ok: false; readonly error: KeyringError } {
  return fail(appError('KEYRING_INVALID', `key file ${path} is unusable: ${why}`, { path }));
}

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function ioFailure(
  error: unknown,
  what: string,
  path: string,
): { readonly ok: false; readonly error: KeyringError } {
  const code = errnoOf(error);
  if (code === undefined) throw error;
  if (code === 'ENOENT') return fail(appError('NOT_FOUND', `${what} does not exist`, { path }));
  return fail(appError('UNAVAILABLE', `cannot access ${what} at ${path} (${code})`, { path, errno: code }));
}
