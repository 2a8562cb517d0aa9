/**
 * The two signature schemes Akash providers accept on JWTs. Pure: no I/O.
 *
 * - `ES256K`: secp256k1 ECDSA over sha256(signing input), encoded as the 64-byte compact r||s with low S.
 *   That is exactly what a Cosmos keyring `Sign` produces, so a CLI key can sign directly.
 * - `ES256KADR36`: browser wallets (Keplr, Leap) cannot sign raw bytes; their ADR-036 `signArbitrary` wraps the
 *   data in a fake amino transaction and signs sha256 of its sorted JSON. Verifying that needs the same wrapper.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';
import { addressOf } from './keys.js';

/** JWS `alg` values an Akash provider accepts. */
export const JWT_ALGORITHMS = ['ES256K', 'ES256KADR36'] as const;
/** One of {@link JWT_ALGORITHMS}. */
export type JwtAlg = (typeof JWT_ALGORITHMS)[number];

/** Length of a compact r||s secp256k1 signature. */
const SIGNATURE_BYTES = 64;

const utf8 = new TextEncoder();

/**
 * The ADR-036 amino sign document for `data` signed by `signer`, as the exact bytes a wallet hashes:
 * sorted-key JSON with zero fee, empty chain id, account number and sequence "0", and `data` in padded base64.
 * Every value here is bech32 or base64, so no JSON escaping can differ from the Go encoder.
 */
export function adr36SignBytes(signer: string, data: Uint8Array): Uint8Array {
  const doc = {
    account_number: '0',
    chain_id: '',
    fee: { amount: [], gas: '0' },
    memo: '',
    msgs: [{ type: 'sign/MsgSignData', value: { data: base64.encode(data), signer } }],
    sequence: '0',
  };
  return utf8.encode(JSON.stringify(doc));
}

/** The 32-byte digest that `alg` signs for `message` when the key's account address is `signer`. */
function signingDigest(alg: JwtAlg, message: Uint8Array, signer: string): Uint8Array {
  return sha256(alg === 'ES256K' ? message : adr36SignBytes(signer, message));
}

/** Signs `message` under `alg` (deterministic RFC 6979, low S) and returns the 64-byte compact signature. */
export function signMessage(alg: JwtAlg, message: Uint8Array, privateKey: Uint8Array): Uint8Array {
  // Deriving the public key costs as much as signing, and only ADR-036 needs the signer's address.
  const signer = alg === 'ES256K' ? '' : addressOf(secp256k1.getPublicKey(privateKey, true));
  return secp256k1.sign(signingDigest(alg, message, signer), privateKey, { prehash: false });
}

/** Checks a compact signature of `message` under `alg` against a compressed public key; high-S is refused. */
export function verifyMessage(
  alg: JwtAlg,
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  const digest = signingDigest(alg, message, addressOf(publicKey));
  try {
    return secp256k1.verify(signature, digest, publicKey, { prehash: false, lowS: true });
  } catch {
    return false;
  }
}

/**
 * Finds the public key of account `signer` that produced `signature` over `message`, when no one can tell us the
 * key. ECDSA recovery yields up to two candidates; only one hashing to `signer` and verifying is accepted, which
 * binds the key to the address as strongly as a key looked up on chain.
 */
export function recoverSignerKey(
  alg: JwtAlg,
  message: Uint8Array,
  signature: Uint8Array,
  signer: string,
): Uint8Array | undefined {
  if (signature.length !== SIGNATURE_BYTES) return undefined;
  const digest = signingDigest(alg, message, signer);
  for (const bit of [0, 1]) {
    let candidate: Uint8Array;
    try {
      candidate = secp256k1.Signature.fromBytes(signature, 'compact')
        .addRecoveryBit(bit)
        .recoverPublicKey(digest)
        .toBytes(true);
    } catch {
      continue;
    }
    if (addressOf(candidate) === signer && verifyMessage(alg, message, signature, candidate))
      return candidate;
  }
  return undefined;
}
