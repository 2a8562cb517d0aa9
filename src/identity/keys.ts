/**
 * secp256k1 account keys and their Cosmos-style bech32 addresses. Pure: no I/O.
 * An Akash account address is bech32("akash", ripemd160(sha256(compressed 33-byte public key))).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64, bech32, hex } from '@scure/base';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';

/** The bech32 human-readable part of Akash account addresses. */
export const AKASH_PREFIX = 'akash';

const PRIVATE_KEY_BYTES = 32;
const PUBLIC_KEY_BYTES = 33;
const ACCOUNT_BYTES = 20;

/** A fresh random 32-byte secp256k1 private key. */
export function generatePrivateKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

/** The compressed (33-byte) public key of a private key. Throws on a key that is not a valid scalar (a bug). */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return secp256k1.getPublicKey(privateKey, true);
}

/** The bech32 account address of a compressed public key. */
export function addressOf(publicKey: Uint8Array, prefix: string = AKASH_PREFIX): string {
  return bech32.encode(prefix, bech32.toWords(ripemd160(sha256(publicKey))));
}

/** Whether `privateKey` is a usable secp256k1 scalar (32 bytes, 0 < k < n). */
export function isValidPrivateKey(privateKey: Uint8Array): boolean {
  return privateKey.length === PRIVATE_KEY_BYTES && secp256k1.utils.isValidSecretKey(privateKey);
}

/** Parses a private key written as 64 hex digits (an optional `0x` prefix is accepted). */
export function parsePrivateKeyHex(text: string): Result<Uint8Array, AppError<'INVALID_INPUT'>> {
  const digits = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(digits)) {
    return fail(appError('INVALID_INPUT', 'a private key must be exactly 64 hex digits'));
  }
  const key = hex.decode(digits.toLowerCase());
  if (!isValidPrivateKey(key)) {
    return fail(appError('INVALID_INPUT', 'the private key is outside the secp256k1 range'));
  }
  return ok(key);
}

/**
 * Parses a compressed secp256k1 public key given as bytes, 66 hex digits, or base64 (the form Cosmos tools print).
 * Rejects anything that is not a point on the curve.
 */
export function parsePublicKey(input: Uint8Array | string): Result<Uint8Array, AppError<'INVALID_INPUT'>> {
  let bytes: Uint8Array;
  if (typeof input !== 'string') {
    bytes = input;
  } else if (/^[0-9a-fA-F]{66}$/.test(input)) {
    bytes = hex.decode(input.toLowerCase());
  } else if (/^[A-Za-z0-9+/]{44}$/.test(input)) {
    bytes = base64.decode(input);
  } else {
    return fail(appError('INVALID_INPUT', 'a public key must be 33 bytes as 66 hex digits or base64'));
  }
  if (bytes.length !== PUBLIC_KEY_BYTES || (bytes[0] !== 2 && bytes[0] !== 3)) {
    return fail(appError('INVALID_INPUT', 'a public key must be a compressed 33-byte secp256k1 point'));
  }
  try {
    secp256k1.Point.fromBytes(bytes);
  } catch {
    return fail(appError('INVALID_INPUT', 'the public key is not a point on secp256k1'));
  }
  return ok(bytes);
}

/**
 * Decodes a lowercase bech32 account address with the given prefix and returns its 20 account bytes.
 * Mixed or upper case is refused so that each account has exactly one spelling.
 */
export function parseAddress(
  text: string,
  prefix: string = AKASH_PREFIX,
): Result<Uint8Array, AppError<'INVALID_INPUT'>> {
  if (text !== text.toLowerCase() || !text.startsWith(`${prefix}1`)) {
    return fail(appError('INVALID_INPUT', `an address must be lowercase bech32 starting with "${prefix}1"`));
  }
  const decoded = decodeBech32(text);
  if (decoded === undefined || decoded.prefix !== prefix) {
    return fail(appError('INVALID_INPUT', `"${text}" is not a valid bech32 address`));
  }
  const { bytes } = decoded;
  if (bytes.length !== ACCOUNT_BYTES) {
    return fail(
      appError('INVALID_INPUT', `an account address holds ${ACCOUNT_BYTES} bytes, got ${bytes.length}`),
    );
  }
  return ok(bytes);
}

/** Whether `text` is a valid lowercase bech32 account address with the given prefix. */
export function isAddress(text: string, prefix: string = AKASH_PREFIX): boolean {
  return parseAddress(text, prefix).ok;
}

function decodeBech32(text: string): { prefix: string; bytes: Uint8Array } | undefined {
  try {
    const { prefix, words } = bech32.decode(text);
    return { prefix, bytes: bech32.fromWords(words) };
  } catch {
    return undefined;
  }
}
