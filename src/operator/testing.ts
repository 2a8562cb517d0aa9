/**
 * Test fixtures for the operator: real bech32 accounts (derived from fixed keys, so they are stable) and
 * the `ProviderLeasedIP` objects exactly as the Go provider's `DeclareIP` writes them.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { addressOf, publicKeyOf } from '../identity/index.js';
import type { LeaseId } from '../lease/index.js';

/** A stable account address for `name`. */
export function accountOf(name: string): string {
  return addressOf(publicKeyOf(sha256(new TextEncoder().encode(`akash-ip operator test ${name}`))));
}

export const PROVIDER = accountOf('provider');
export const OTHER_PROVIDER = accountOf('other provider');
export const ALICE = accountOf('alice');
export const BOB = accountOf('bob');

export function leaseOf(owner: string, dseq: number, gseq = 1, oseq = 1, provider = PROVIDER): LeaseId {
  return { owner, dseq: String(dseq), gseq, oseq, provider };
}
