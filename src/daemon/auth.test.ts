import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appError, fail, ok } from '../errors/index.js';
import { TokenVerifier } from './auth.js';
import { account, tokenOf } from './testing.js';

const alice = account(0xa11ce);
const T0 = 1_760_000_000_000;

function verifier(
  options: {
    now?: () => number;
    cacheSize?: number;
    keys?: Map<string, string>;
    maxLifetimeSeconds?: number;
  } = {},
) {
  const lookups: string[] = [];
  const keys = options.keys ?? new Map([[alice.address, alice.pubkey]]);
  const verify = new TokenVerifier({
    lookup: (address) => {
      lookups.push(address);
      const key = keys.get(address);
      return Promise.resolve(
        key === undefined ? fail(appError('ACCOUNT_NOT_FOUND', `no account ${address}`)) : ok(key),
      );
    },
    now: options.now ?? (() => T0),
    cacheSize: options.cacheSize ?? 10,
    ...(options.maxLifetimeSeconds === undefined ? {} : { maxLifetimeSeconds: options.maxLifetimeSeconds }),
  });
  return { verify, lookups };
}

describe('token verifier', () => {
  it('verifies a token once and serves it from the cache after', async () => {
    const { verify, lookups } = verifier();
    const token = tokenOf(alice, T0);
    const first = await verify.verify(`Bearer ${token}`);
    assert.ok(first.ok);
    assert.equal(first.value.iss, alice.address);
    const again = await verify.verify(`bearer ${token}`);
    assert.ok(again.ok);
    assert.equal(again.value, first.value);
    assert.deepEqual(lookups, [alice.address]);
  });

  it('re-checks the validity window on a cached token', async () => {
    let now = T0;
    const { verify } = verifier({ now: () => now });
    const token = tokenOf(alice, T0, { ttlSeconds: 60 });
    assert.ok((await verify.verifyToken(token)).ok);
    now = T0 + 64_000; // within the 5 s leeway
    assert.ok((await verify.verifyToken(token)).ok);
    now = T0 + 66_000;
    const expired = await verify.verifyToken(token);
    assert.ok(!expired.ok);
    assert.equal(expired.error.details?.reason, 'expired');
    assert.equal(verify.size, 0);
    const early = tokenOf(alice, T0 + 600_000);
    now = T0;
    const notYet = await verify.verifyToken(early);
    assert.ok(!notYet.ok);
    assert.equal(notYet.error.code, 'UNAUTHENTICATED');
  });

  it('keeps at most cacheSize tokens, dropping the least recently used', async () => {
    const { verify, lookups } = verifier({ cacheSize: 2 });
    const tokens = [1, 2, 3].map((n) => tokenOf(alice, T0, { claims: { jti: `t${n}` } }));
    for (const token of tokens.slice(0, 2)) assert.ok((await verify.verifyToken(token)).ok);
    assert.ok((await verify.verifyToken(tokens[0]!)).ok, 'the first, used again');
    assert.ok((await verify.verifyToken(tokens[2]!)).ok, 'drops the second, the least recently used');
    assert.equal(verify.size, 2);
    assert.equal(lookups.length, 3);
    assert.ok((await verify.verifyToken(tokens[0]!)).ok);
    assert.equal(lookups.length, 3, 'the first is still cached');
    assert.ok((await verify.verifyToken(tokens[1]!)).ok);
    assert.equal(lookups.length, 4, 'the second was not');
  });

  it('refuses a token valid for longer than the configured lifetime, with its own code', async () => {
    const { verify } = verifier({ maxLifetimeSeconds: 900 });
    assert.ok((await verify.verifyToken(tokenOf(alice, T0, { ttlSeconds: 900 }))).ok);
    const long = await verify.verifyToken(tokenOf(alice, T0, { ttlSeconds: 901 }));
    assert.equal(long.ok ? 'accepted' : long.error.code, 'TOKEN_LIFETIME');
    assert.deepEqual(long.ok ? {} : long.error.details, { lifetimeSeconds: 901, maxLifetimeSeconds: 900 });
    // counted from nbf: a token minted now but valid from an hour ago is usable for longer
    const backdated = tokenOf(alice, T0, { ttlSeconds: 600, claims: { nbf: Math.floor(T0 / 1000) - 3600 } });
    const refused = await verify.verifyToken(backdated);
    assert.equal(refused.ok ? 'accepted' : refused.error.code, 'TOKEN_LIFETIME');
    // off by default, as Akash's provider: a day-long token passes
    assert.ok((await verifier().verify.verifyToken(tokenOf(alice, T0, { ttlSeconds: 86_400 }))).ok);
    assert.equal(verify.size, 1, 'refusals are not cached');
  });

  it('refuses missing, malformed, forged and unknown-issuer tokens, caching none', async () => {
    const { verify } = verifier({ keys: new Map([[alice.address, account(0xbad).pubkey]]) });
    for (const header of [undefined, '', 'Token abc', 'Bearer', 'Bearer a.b.c']) {
      const refused = await verify.verify(header);
      assert.ok(!refused.ok, String(header));
      assert.equal(refused.error.code, 'UNAUTHENTICATED');
    }
    const mismatched = await verify.verifyToken(tokenOf(alice, T0));
    assert.ok(!mismatched.ok);
    assert.equal(mismatched.error.details?.reason, 'key-mismatch');
    const unknown = await verifier().verify.verifyToken(tokenOf(account(0xca201), T0));
    assert.ok(!unknown.ok);
    assert.equal(unknown.error.details?.reason, 'unknown-account');
    assert.equal(verify.size, 0);
  });

  it('answers UNAVAILABLE when the key lookup itself fails', async () => {
    const verify = new TokenVerifier({
      lookup: () => Promise.resolve(fail(appError('UNAVAILABLE', 'the ledger did not answer'))),
      now: () => T0,
      cacheSize: 1,
    });
    const refused = await verify.verifyToken(tokenOf(alice, T0));
    assert.ok(!refused.ok);
    assert.equal(refused.error.code, 'UNAVAILABLE');
  });
});
