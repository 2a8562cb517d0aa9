/**
 * Fixtures for identity tests: published interoperability vectors and builders for hand-made tokens.
 *
 * The chain-sdk vectors come from github.com/akash-network/chain-sdk at 55f1c68: `testdata/jwt/mnemonic`,
 * `testdata/jwt/cases_es256k.json` and `testdata/jwt/cases_jwt.json.tmpl`. Those tokens were produced by the Go
 * signer (`go/util/jwt`) with the account derived from that mnemonic.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad, hex } from '@scure/base';
import { addressOf, publicKeyOf } from './keys.js';
import { type JwtAlg, signMessage } from './signature.js';

/** chain-sdk `testdata/jwt/mnemonic`. */
export const CHAIN_SDK_MNEMONIC =
  'addict worth drip violin note olive final pelican perfect feel goat game horror brass fence deposit dutch ' +
  'improve setup stuff frost spirit smart alien';

/**
 * The Cosmos account (BIP-44 path m/44'/118'/0'/0/0) of {@link CHAIN_SDK_MNEMONIC}. The address is the `iss`
 * published in chain-sdk's cases; the keys are re-derived from the mnemonic in keys.test.ts.
 */
export const CHAIN_SDK_ACCOUNT = {
  privateKeyHex: 'f9f6eca1743a30df6d6c84e5cbb4c7a35467c52bf8bb9ea15c104c9f24510232',
  publicKeyHex: '03e1fde5cc17f56501ed53d87718df76c135b9a6401dceb53d198111a1eaf85f76',
  address: 'akash1qufa3xzrf34qvwyejkhvnc4psf49fftaw0asmh',
} as const;

/** Tokens published by chain-sdk, all signed by {@link CHAIN_SDK_ACCOUNT}. */
export const CHAIN_SDK_TOKENS = {
  /** cases_jwt.json.tmpl "sign valid/verify against static token string": full access, iat=nbf 1746666103, exp 2046667103. */
  es256kFull:
    'eyJhbGciOiJFUzI1NksiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJha2FzaDFxdWZhM3h6cmYzNHF2d3llamtodm5jNHBzZjQ5ZmZ0YXcwYXNtaCIs' +
    'ImV4cCI6MjA0NjY2NzEwMywibmJmIjoxNzQ2NjY2MTAzLCJpYXQiOjE3NDY2NjYxMDMsInZlcnNpb24iOiJ2MSIsImxlYXNlcyI6eyJhY2Nlc3Mi' +
    'OiJmdWxsIn19.MZr8b9Q-hcnAUAFbdAVcZpetppP0YDFxJwkRncgE8mEM20woFB2yJuFbfv6YMAUZk8DNORoLaP8hUP8q2FnznQ',
  /** cases_es256k.json "ES256KADR36 - Valid Signature/with scoped claims": iat=nbf 1760404940, exp 1760406740. */
  adr36Scoped:
    'eyJhbGciOiJFUzI1NktBRFIzNiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJha2FzaDFxdWZhM3h6cmYzNHF2d3llamtodm5jNHBzZjQ5ZmZ0YXcwYX' +
    'NtaCIsImV4cCI6MTc2MDQwNjc0MCwibmJmIjoxNzYwNDA0OTQwLCJpYXQiOjE3NjA0MDQ5NDAsInZlcnNpb24iOiJ2MSIsImxlYXNlcyI6eyJhY2' +
    'Nlc3MiOiJzY29wZWQiLCJzY29wZSI6WyJzdGF0dXMiLCJzaGVsbCIsImV2ZW50cyIsImxvZ3MiXX19.dl8m8L0kExz2CCXvDXY65L0F3G7T21Zk5' +
    'zfK_Ld78owfZrQbtNQW-FSsLtER2PFBwkEAgXgtrxl3kfImrEGLeg',
  /** cases_es256k.json "ES256K - Valid Signature": claims are invalid, the signature is valid. */
  es256kShort:
    'eyJhbGciOiJFUzI1NksiLCJ0eXAiOiJKV1QifQ.eyJ2ZXJzaW9uIjoiIiwibGVhc2VzIjp7ImFjY2VzcyI6IiJ9fQ.fQFwGyhJDyF9i_zCX6IwJ4' +
    '3_arjs_1qJmxNSph6t8INMMZ7hBvrzwg0Ym8N06G7O_ZDw0mujQCfmOmR1jegnmA',
  /** cases_es256k.json "ES256KADR36 - Valid Signature / short": claims are invalid, the signature is valid. */
  adr36Short:
    'eyJhbGciOiJFUzI1NktBRFIzNiIsInR5cCI6IkpXVCJ9.eyJ2ZXJzaW9uIjoiIiwibGVhc2VzIjp7ImFjY2VzcyI6IiJ9fQ.22E6loqRf26cdpE-' +
    'SqL2g1bN2utaFxNSEo-tFgbr8ZYpewJzy13Oo7xePj_WHgPJh6xpU9iw58TYyf5rEayTeA',
  /** cases_es256k.json "ES256KADR36 - Invalid Signature": header says "ES256KARD36" (sic). */
  adr36Invalid:
    'eyJhbGciOiJFUzI1NktBUkQzNiIsInR5cCI6IkpXVCJ9.eyJ2ZXJzaW9uIjoiIiwibGVhc2VzIjp7ImFjY2VzcyI6IiJ9fQ.FkLJICFkfXXT9rLZ' +
    '8MLCKypKoLOoKIjxDIX-cyTiGklh-2sK5T2DTV0e1YVMhwQyeAN4qcgjm1gHSXdbS-xrYQ',
} as const;

/** A deterministic test account derived from a label. */
export interface TestAccount {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: string;
}

/** The account whose private key is sha256(label); distinct labels give distinct accounts. */
export function testAccount(label: string): TestAccount {
  const privateKey = sha256(new TextEncoder().encode(label));
  const publicKey = publicKeyOf(privateKey);
  return { privateKey, publicKey, address: addressOf(publicKey) };
}

/** Base64url (no padding) of a string's UTF-8 bytes. */
export function b64url(text: string): string {
  return base64urlnopad.encode(new TextEncoder().encode(text));
}

/**
 * Signs arbitrary header and payload JSON, bypassing every claims check, to build tokens the verifier must
 * refuse. `payload` may be a raw JSON string to control its exact bytes.
 */
export function forgeToken(
  header: unknown,
  payload: unknown,
  privateKey: Uint8Array,
  alg: JwtAlg = 'ES256K',
): string {
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  const signature = signMessage(alg, new TextEncoder().encode(signingInput), privateKey);
  return `${signingInput}.${base64urlnopad.encode(signature)}`;
}

/** Hex of bytes, for readable assertions. */
export function toHex(bytes: Uint8Array): string {
  return hex.encode(bytes);
}
