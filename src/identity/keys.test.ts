import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { base64, bech32, hex } from '@scure/base';
import fc from 'fast-check';
import {
  addressOf,
  generatePrivateKey,
  isAddress,
  isValidPrivateKey,
  parseAddress,
  parsePrivateKeyHex,
  parsePublicKey,
  publicKeyOf,
} from './keys.js';
import { CHAIN_SDK_ACCOUNT, CHAIN_SDK_MNEMONIC, toHex } from './testing.js';

const N = secp256k1.Point.CURVE().n;

/** BIP-39 seed + BIP-32 derivation, test-only: enough to re-derive the chain-sdk account from its mnemonic. */
function deriveFromMnemonic(mnemonic: string, path: readonly number[]): Uint8Array {
  const utf8 = new TextEncoder();
  const seed = pbkdf2(sha512, utf8.encode(mnemonic.normalize('NFKD')), utf8.encode('mnemonic'), {
    c: 2048,
    dkLen: 64,
  });
  let node = hmac(sha512, utf8.encode('Bitcoin seed'), seed);
  for (const index of path) {
    const key = node.subarray(0, 32);
    const data = new Uint8Array(37);
    if (index >= 0x8000_0000) data.set(key, 1);
    else data.set(secp256k1.getPublicKey(key, true), 0);
    new DataView(data.buffer).setUint32(33, index);
    const child = hmac(sha512, node.subarray(32), data);
    const scalar = (BigInt(`0x${hex.encode(child.subarray(0, 32))}`) + BigInt(`0x${hex.encode(key)}`)) % N;
    node = new Uint8Array(64);
    node.set(hex.decode(scalar.toString(16).padStart(64, '0')), 0);
    node.set(child.subarray(32), 32);
  }
  return node.subarray(0, 32);
}

const hardened = (i: number): number => i + 0x8000_0000;

function reprefix(address: string, prefix: string): string {
  return bech32.encode(prefix, bech32.decode(address as `${string}1${string}`).words);
}

describe('account keys and addresses', () => {
  it('derives the Trust Wallet Cosmos vector (private key → public key → address)', () => {
    // trustwallet/wallet-core tests/chains/Cosmos/AddressTests.cpp, Cosmos_FromPublicKey.
    const privateKey = parsePrivateKeyHex('80e81ea269e66a0a05b11236df7919fb7fbeedba87452d667489d7403a02f005');
    assert.ok(privateKey.ok);
    const publicKey = publicKeyOf(privateKey.value);
    assert.equal(toHex(publicKey), '0257286ec3f37d33557bbbaa000b27744ac9023aa9967cae75a181d1ff91fa9dc5');
    assert.equal(addressOf(publicKey, 'cosmos'), 'cosmos1hsk6jryyqjfhp5dhc55tc9jtckygx0eph6dd02');
    assert.equal(addressOf(publicKey), reprefix('cosmos1hsk6jryyqjfhp5dhc55tc9jtckygx0eph6dd02', 'akash'));
  });

  it('derives the cosmjs compressed-pubkey vector', () => {
    // cosmjs packages/amino/src/addresses.spec.ts, "works for Secp256k1 compressed".
    const publicKey = parsePublicKey('AtQaCqFnshaZQp6rIkvAPyzThvCvXSDO+9AzbxVErqJP');
    assert.ok(publicKey.ok);
    assert.equal(addressOf(publicKey.value, 'cosmos'), 'cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r');
    assert.equal(
      addressOf(publicKey.value),
      reprefix('cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r', 'akash'),
    );
  });

  it("re-derives chain-sdk's JWT test account from its mnemonic", () => {
    const privateKey = deriveFromMnemonic(CHAIN_SDK_MNEMONIC, [
      hardened(44),
      hardened(118),
      hardened(0),
      0,
      0,
    ]);
    assert.equal(toHex(privateKey), CHAIN_SDK_ACCOUNT.privateKeyHex);
    assert.equal(toHex(publicKeyOf(privateKey)), CHAIN_SDK_ACCOUNT.publicKeyHex);
    assert.equal(addressOf(publicKeyOf(privateKey)), CHAIN_SDK_ACCOUNT.address);
  });

  it('hashes the compressed key: ripemd160(sha256(pubkey)) is the address payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        fc.pre(isValidPrivateKey(seed));
        const publicKey = publicKeyOf(seed);
        const parsed = parseAddress(addressOf(publicKey));
        assert.ok(parsed.ok);
        assert.deepEqual(parsed.value, ripemd160(sha256(publicKey)));
      }),
      { numRuns: 50 },
    );
  });

  it('generates distinct valid keys whose address is 44 characters', () => {
    const a = generatePrivateKey();
    const b = generatePrivateKey();
    assert.ok(isValidPrivateKey(a));
    assert.notDeepEqual(a, b);
    assert.match(addressOf(publicKeyOf(a)), /^akash1[02-9ac-hj-np-z]{38}$/);
  });
});

describe('parsePrivateKeyHex', () => {
  it('accepts 64 hex digits in either case, with or without 0x', () => {
    const lower = parsePrivateKeyHex(CHAIN_SDK_ACCOUNT.privateKeyHex);
    const upper = parsePrivateKeyHex(`0x${CHAIN_SDK_ACCOUNT.privateKeyHex.toUpperCase()}`);
    assert.ok(lower.ok && upper.ok);
    assert.deepEqual(lower.value, upper.value);
  });

  it('refuses wrong lengths, non-hex, zero and the curve order', () => {
    for (const text of [
      '',
      'abc',
      `${CHAIN_SDK_ACCOUNT.privateKeyHex}00`,
      'zz'.repeat(32),
      '00'.repeat(32),
    ]) {
      const parsed = parsePrivateKeyHex(text);
      assert.ok(!parsed.ok, text);
      assert.equal(parsed.error.code, 'INVALID_INPUT');
    }
    assert.ok(!parsePrivateKeyHex(N.toString(16)).ok);
    assert.ok(parsePrivateKeyHex((N - 1n).toString(16)).ok);
  });
});

describe('parsePublicKey', () => {
  const compressed = hex.decode(CHAIN_SDK_ACCOUNT.publicKeyHex);

  it('accepts bytes, hex and base64 of a compressed point', () => {
    for (const input of [compressed, CHAIN_SDK_ACCOUNT.publicKeyHex, base64.encode(compressed)]) {
      const parsed = parsePublicKey(input);
      assert.ok(parsed.ok);
      assert.deepEqual(parsed.value, compressed);
    }
  });

  it('refuses uncompressed keys, wrong prefixes and points off the curve', () => {
    const uncompressed = secp256k1.Point.fromBytes(compressed).toBytes(false);
    const badPrefix = Uint8Array.from(compressed);
    badPrefix[0] = 4;
    // x = 5 has no point on secp256k1: 5^3 + 7 is not a square mod p.
    const offCurve = new Uint8Array(33);
    offCurve[0] = 2;
    offCurve[32] = 5;
    for (const input of [
      uncompressed,
      badPrefix,
      offCurve,
      'not a key',
      `${CHAIN_SDK_ACCOUNT.publicKeyHex}00`,
    ]) {
      const parsed = parsePublicKey(input);
      assert.ok(!parsed.ok);
      assert.equal(parsed.error.code, 'INVALID_INPUT');
    }
  });
});

describe('parseAddress', () => {
  it('accepts the chain-sdk account address', () => {
    assert.ok(isAddress(CHAIN_SDK_ACCOUNT.address));
  });

  it('refuses other prefixes, upper case, broken checksums and non-account lengths', () => {
    const { address } = CHAIN_SDK_ACCOUNT;
    const brokenChecksum = `${address.slice(0, -1)}${address.endsWith('q') ? 'p' : 'q'}`;
    const longAccount = bech32.encode('akash', bech32.toWords(new Uint8Array(32)));
    for (const text of [
      reprefix(address, 'cosmos'),
      address.toUpperCase(),
      brokenChecksum,
      longAccount,
      'akash1',
      '',
    ]) {
      const parsed = parseAddress(text);
      assert.ok(!parsed.ok, text);
      assert.equal(parsed.error.code, 'INVALID_INPUT');
    }
    assert.ok(parseAddress(reprefix(address, 'cosmos'), 'cosmos').ok);
  });
});
