import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64, base64urlnopad, hex } from '@scure/base';
import fc from 'fast-check';
import type { AppError, Result } from '../errors/index.js';
import { type JwtClaims, type Leases, newClaims, PERMISSION_SCOPES, parseClaims } from './claims.js';
import {
  bearerToken,
  DEFAULT_LEEWAY_SECONDS,
  DEFAULT_MAX_TOKEN_BYTES,
  decodeJwt,
  type PubkeyResolver,
  signJwt,
  type VerifyJwtOptions,
  verifyJwt,
} from './jwt.js';
import type { JwtAlg } from './signature.js';
import {
  b64url,
  CHAIN_SDK_ACCOUNT,
  CHAIN_SDK_TOKENS,
  forgeToken,
  type TestAccount,
  testAccount,
  toHex,
} from './testing.js';

const NOW = 1_700_000_000;
const owner = testAccount('owner');
const stranger = testAccount('stranger');
const third = testAccount('third');
const chainSdk: TestAccount = {
  privateKey: hex.decode(CHAIN_SDK_ACCOUNT.privateKeyHex),
  publicKey: hex.decode(CHAIN_SDK_ACCOUNT.publicKeyHex),
  address: CHAIN_SDK_ACCOUNT.address,
};
const ledger: PubkeyResolver = (address) =>
  [owner, stranger, third, chainSdk].find((account) => account.address === address)?.publicKey;

/** Both ways a verifier can learn the issuer key: a ledger lookup, or recovery from the signature. */
const MODES: readonly (readonly [string, Omit<VerifyJwtOptions, 'now'>])[] = [
  ['ledger', { resolvePubkey: ledger }],
  ['recovery', {}],
];
const ALGS: readonly JwtAlg[] = ['ES256K', 'ES256KADR36'];

function sign(claims: JwtClaims, account: TestAccount = owner, alg: JwtAlg = 'ES256K'): string {
  const token = signJwt(claims, account.privateKey, alg);
  assert.ok(token.ok, token.ok ? '' : token.error.message);
  return token.value;
}

function expectReason(result: Result<unknown, AppError>, code: string, reason: string): void {
  assert.ok(!result.ok, `expected ${reason}, got success`);
  assert.equal(result.error.code, code);
  assert.equal(result.error.details?.reason, reason, result.error.message);
}

function expectRefused(token: string, reason: string, options: Partial<VerifyJwtOptions> = {}): void {
  for (const [, mode] of MODES)
    expectReason(verifyJwt(token, { now: NOW, ...mode, ...options }), 'UNAUTHENTICATED', reason);
}

const ownerClaims = (over: Partial<JwtClaims> = {}): JwtClaims => ({
  ...newClaims(owner.address, { now: NOW }),
  ...over,
});

describe('chain-sdk interoperability', () => {
  it('signs the published ES256K token byte for byte', () => {
    const claims = newClaims(CHAIN_SDK_ACCOUNT.address, { now: 1_746_666_103, ttlSeconds: 300_001_000 });
    assert.equal(sign(claims, chainSdk, 'ES256K'), CHAIN_SDK_TOKENS.es256kFull);
  });

  it('signs the published ES256KADR36 token byte for byte', () => {
    const claims = newClaims(CHAIN_SDK_ACCOUNT.address, {
      now: 1_760_404_940,
      ttlSeconds: 1800,
      leases: { access: 'scoped', scope: ['status', 'shell', 'events', 'logs'] },
    });
    assert.equal(sign(claims, chainSdk, 'ES256KADR36'), CHAIN_SDK_TOKENS.adr36Scoped);
  });

  it('verifies both published tokens inside their validity window, by lookup and by recovery', () => {
    for (const [token, alg, now] of [
      [CHAIN_SDK_TOKENS.es256kFull, 'ES256K', 1_900_000_000],
      [CHAIN_SDK_TOKENS.adr36Scoped, 'ES256KADR36', 1_760_405_000],
    ] as const) {
      for (const [mode, options] of MODES) {
        const verified = verifyJwt(token, { now, ...options });
        assert.ok(verified.ok, `${alg} by ${mode}: ${verified.ok ? '' : verified.error.message}`);
        assert.equal(verified.value.alg, alg);
        assert.equal(verified.value.claims.iss, CHAIN_SDK_ACCOUNT.address);
        assert.equal(toHex(verified.value.publicKey), CHAIN_SDK_ACCOUNT.publicKeyHex);
      }
    }
    expectReason(
      verifyJwt(CHAIN_SDK_TOKENS.adr36Scoped, { now: 1_760_406_740 + DEFAULT_LEEWAY_SECONDS }),
      'UNAUTHENTICATED',
      'expired',
    );
  });

  it('refuses the published invalid cases', () => {
    expectRefused(CHAIN_SDK_TOKENS.adr36Invalid, 'unsupported-alg');
    expectRefused(CHAIN_SDK_TOKENS.es256kShort, 'unsupported-version');
    expectRefused(CHAIN_SDK_TOKENS.adr36Short, 'unsupported-version');
  });
});

describe('signJwt and verifyJwt round trip', () => {
  for (const alg of ALGS) {
    for (const [mode, options] of MODES) {
      it(`${alg}, key by ${mode}`, () => {
        const claims = ownerClaims({
          jti: 'a<b>&c',
          leases: { access: 'scoped', scope: ['status', 'ip-migrate'] },
        });
        const token = sign(claims, owner, alg);
        const verified = verifyJwt(token, { now: NOW + 60, ...options });
        assert.ok(verified.ok, verified.ok ? '' : verified.error.message);
        assert.equal(verified.value.alg, alg);
        assert.deepEqual(verified.value.claims, claims);
        assert.deepEqual(verified.value.publicKey, owner.publicKey);
      });
    }
  }

  it('writes the header as chain-sdk does and escapes the payload as Go does', () => {
    const token = sign(ownerClaims({ jti: '<&>' }), owner, 'ES256KADR36');
    const [header = '', payload = ''] = token.split('.');
    assert.equal(
      new TextDecoder().decode(base64urlnopad.decode(header)),
      '{"alg":"ES256KADR36","typ":"JWT"}',
    );
    assert.match(new TextDecoder().decode(base64urlnopad.decode(payload)), /"jti":"\\u003c\\u0026\\u003e"/);
  });
});

describe('signJwt refusals', () => {
  it('refuses claims whose iss is not the signing key', () => {
    const token = signJwt(ownerClaims(), stranger.privateKey);
    assert.ok(!token.ok);
    assert.equal(token.error.code, 'INVALID_INPUT');
    assert.equal(token.error.details?.signer, stranger.address);
  });

  it('refuses invalid claims and invalid keys', () => {
    const duplicate = ownerClaims({ leases: { access: 'scoped', scope: ['status', 'status'] } });
    expectReason(signJwt(duplicate, owner.privateKey), 'INVALID_INPUT', 'invalid-claims');
    assert.equal(signJwt(ownerClaims(), new Uint8Array(32)).ok, false);
  });
});

describe('verifyJwt refusals', () => {
  const good = sign(ownerClaims());
  const [goodHeader = '', goodPayload = '', goodSignature = ''] = good.split('.');

  it('refuses a signature from another message', () => {
    const other = sign(ownerClaims({ jti: 'other' }));
    expectRefused(`${goodHeader}.${goodPayload}.${other.split('.')[2]}`, 'bad-signature');
  });

  it('refuses a tampered payload', () => {
    const widened = b64url(JSON.stringify({ ...ownerClaims(), exp: NOW + 86_400 * 365 }));
    expectRefused(`${goodHeader}.${widened}.${goodSignature}`, 'bad-signature');
    const scoped = sign(ownerClaims({ leases: { access: 'scoped', scope: ['status'] } }));
    const [h, , s] = scoped.split('.');
    expectRefused(`${h}.${goodPayload}.${s}`, 'bad-signature');
  });

  it('refuses a header switched to the other algorithm', () => {
    const switched = b64url('{"alg":"ES256KADR36","typ":"JWT"}');
    expectRefused(`${switched}.${goodPayload}.${goodSignature}`, 'bad-signature');
  });

  it('refuses alg none, HS256, ES256 and a missing alg', () => {
    const payload = ownerClaims();
    expectRefused(`${b64url('{"alg":"none","typ":"JWT"}')}.${goodPayload}.`, 'malformed');
    expectRefused(
      `${b64url('{"alg":"none","typ":"JWT"}')}.${goodPayload}.${goodSignature}`,
      'unsupported-alg',
    );
    // The classic confusion: an HMAC keyed with the (public) issuer key.
    const input = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify(payload))}`;
    const mac = base64urlnopad.encode(hmac(sha256, owner.publicKey, new TextEncoder().encode(input)));
    expectRefused(`${input}.${mac}`, 'unsupported-alg');
    expectRefused(forgeToken({ alg: 'ES256', typ: 'JWT' }, payload, owner.privateKey), 'unsupported-alg');
    expectRefused(forgeToken({ typ: 'JWT' }, payload, owner.privateKey), 'unsupported-alg');
  });

  it('refuses expired tokens, with the leeway and exactly at its edge', () => {
    const claims = ownerClaims({ exp: NOW + 100 });
    const token = sign(claims);
    const leeway = DEFAULT_LEEWAY_SECONDS;
    assert.ok(verifyJwt(token, { now: NOW + 100 + leeway - 1 }).ok);
    expectRefused(token, 'expired', { now: NOW + 100 + leeway });
    // With no leeway this is Go's rule: valid only while now < exp.
    assert.ok(verifyJwt(token, { now: NOW + 99, leewaySeconds: 0 }).ok);
    expectRefused(token, 'expired', { now: NOW + 100, leewaySeconds: 0 });
  });

  it('refuses tokens before nbf beyond the leeway', () => {
    const token = sign(ownerClaims({ iat: NOW, nbf: NOW + 100 }));
    assert.ok(verifyJwt(token, { now: NOW + 100 - DEFAULT_LEEWAY_SECONDS }).ok);
    expectRefused(token, 'not-yet-valid', { now: NOW + 100 - DEFAULT_LEEWAY_SECONDS - 1 });
    expectRefused(token, 'not-yet-valid', { now: NOW + 99, leewaySeconds: 0 });
    assert.ok(verifyJwt(token, { now: NOW + 40, leewaySeconds: 60 }).ok);
  });

  it('refuses tokens issued in the future beyond the leeway', () => {
    const token = sign(ownerClaims({ iat: NOW + 30, nbf: NOW - 10 }));
    expectRefused(token, 'issued-in-future', { now: NOW });
    assert.ok(verifyJwt(token, { now: NOW + 30 - DEFAULT_LEEWAY_SECONDS }).ok);
  });

  it('refuses a missing or old version', () => {
    const { version: _drop, ...unversioned } = ownerClaims();
    expectRefused(
      forgeToken({ alg: 'ES256K', typ: 'JWT' }, unversioned, owner.privateKey),
      'unsupported-version',
    );
    expectRefused(
      forgeToken({ alg: 'ES256K', typ: 'JWT' }, { ...ownerClaims(), version: 'v0' }, owner.privateKey),
      'unsupported-version',
    );
  });

  it('refuses invalid claims even when correctly signed', () => {
    const payload = { ...ownerClaims(), leases: { access: 'scoped', scope: ['status', 'status'] } };
    expectRefused(forgeToken({ alg: 'ES256K', typ: 'JWT' }, payload, owner.privateKey), 'invalid-claims');
  });

  it('refuses a token signed by someone other than iss', () => {
    for (const alg of ALGS) {
      expectRefused(
        forgeToken({ alg, typ: 'JWT' }, ownerClaims(), stranger.privateKey, alg),
        'bad-signature',
      );
    }
  });

  it('refuses unknown accounts and ledger keys that do not hash to iss', () => {
    const options = { now: NOW };
    expectReason(
      verifyJwt(good, { ...options, resolvePubkey: () => undefined }),
      'UNAUTHENTICATED',
      'unknown-account',
    );
    expectReason(
      verifyJwt(good, { ...options, resolvePubkey: () => stranger.publicKey }),
      'UNAUTHENTICATED',
      'key-mismatch',
    );
    expectReason(
      verifyJwt(good, { ...options, resolvePubkey: () => new Uint8Array(33) }),
      'UNAUTHENTICATED',
      'key-mismatch',
    );
    expectReason(
      verifyJwt(good, { ...options, resolvePubkey: () => 'garbage' }),
      'UNAUTHENTICATED',
      'key-mismatch',
    );
  });

  it('takes ledger keys as hex or base64 text too', () => {
    for (const text of [hex.encode(owner.publicKey), base64.encode(owner.publicKey)]) {
      assert.ok(verifyJwt(good, { now: NOW, resolvePubkey: () => text }).ok);
    }
  });

  it('refuses malformed tokens', () => {
    const sigBytes = base64urlnopad.decode(goodSignature);
    const lastChar = goodSignature.at(-1) ?? 'A';
    // 64 bytes leave 2 unused bits in the last character; setting one must not be accepted as the same signature.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const nonCanonical = `${goodSignature.slice(0, -1)}${alphabet[alphabet.indexOf(lastChar) ^ 1]}`;
    const malformed = [
      '',
      'abc',
      `${goodHeader}.${goodPayload}`,
      `${good}.${goodSignature}`,
      `${goodHeader}..${goodSignature}`,
      ` ${good}`,
      `${goodHeader}=.${goodPayload}.${goodSignature}`,
      `${goodHeader}.${goodPayload}.${base64urlnopad.encode(sigBytes)}==`,
      `${goodHeader}.${goodPayload}.+${goodSignature.slice(1)}`,
      `${goodHeader}.${goodPayload}.${nonCanonical}`,
      `${b64url('not json')}.${goodPayload}.${goodSignature}`,
      `${b64url('["ES256K"]')}.${goodPayload}.${goodSignature}`,
      `${goodHeader}.${b64url('{"iss":')}.${goodSignature}`,
      `${goodHeader}.${base64urlnopad.encode(Uint8Array.of(0x7b, 0xff, 0x7d))}.${goodSignature}`,
      forgeToken({ alg: 'ES256K', typ: 'JWT', kid: 'x' }, ownerClaims(), owner.privateKey),
      forgeToken({ alg: 'ES256K', typ: 'JWS' }, ownerClaims(), owner.privateKey),
    ];
    for (const token of malformed) expectRefused(token, 'malformed');
    expectRefused(
      `${goodHeader}.${goodPayload}.${base64urlnopad.encode(sigBytes.subarray(1))}`,
      'bad-signature',
    );
  });

  it('treats a clock that is not Unix seconds as a caller bug', () => {
    for (const now of [Number.NaN, Number.POSITIVE_INFINITY, -1, Date.UTC(2024, 0, 1)]) {
      assert.throws(() => verifyJwt(good, { now }), RangeError);
    }
    assert.throws(() => verifyJwt(good, { now: NOW, leewaySeconds: -1 }), RangeError);
  });

  it('refuses oversized tokens before decoding them', () => {
    expectRefused(`${good}${'A'.repeat(DEFAULT_MAX_TOKEN_BYTES)}`, 'oversized');
    expectRefused(good, 'oversized', { maxTokenBytes: good.length - 1 });
    assert.ok(verifyJwt(good, { now: NOW, maxTokenBytes: good.length }).ok);
  });
});

describe('decodeJwt', () => {
  it('reads claims without checking the clock or the signature', () => {
    const expired = sign(ownerClaims({ exp: NOW - 1000, iat: NOW - 2000, nbf: NOW - 2000 }));
    const [h, p] = expired.split('.');
    const decoded = decodeJwt(`${h}.${p}.${'A'.repeat(86)}`);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.claims.iss, owner.address);
    assert.equal(decoded.value.signingInput, `${h}.${p}`);
  });

  it('refuses a granular dseq that no uint64 holds, or that a float64 would round', () => {
    const [h] = sign(ownerClaims()).split('.');
    const withDseq = (dseq: string) => {
      const json = JSON.stringify(ownerClaims()).replace(
        '{"access":"full"}',
        `{"access":"granular","permissions":[{"provider":"${stranger.address}","access":"granular",` +
          `"deployments":[{"scope":["status"],"dseq":${dseq},"services":["web"]}]}]}`,
      );
      return decodeJwt(`${h}.${base64urlnopad.encode(new TextEncoder().encode(json))}.${'A'.repeat(86)}`);
    };
    assert.ok(withDseq('18446744073709551615').ok);
    for (const dseq of ['18446744073709551616', '1e19', '9007199254740993.0', '"007"', '0']) {
      expectReason(withDseq(dseq), 'UNAUTHENTICATED', 'invalid-claims');
    }
  });
});

describe('bearerToken', () => {
  it('reads "Bearer <token>" with any scheme case, and no header as no token', () => {
    assert.deepEqual(bearerToken(undefined), { ok: true, value: undefined });
    assert.deepEqual(bearerToken(''), { ok: true, value: undefined });
    assert.deepEqual(bearerToken('Bearer abc.def.ghi'), { ok: true, value: 'abc.def.ghi' });
    assert.deepEqual(bearerToken('bearer  abc'), { ok: true, value: 'abc' });
  });

  it('refuses other schemes and extra words', () => {
    for (const header of ['Basic abc', 'Bearer', 'Bearer a b', 'abc']) {
      expectReason(bearerToken(header), 'UNAUTHENTICATED', 'malformed');
    }
  });
});

const accounts = [owner, stranger, third];
const providers = ['p1', 'p2', 'p3', 'p4'].map((label) => testAccount(label).address);
const scopes = fc.uniqueArray(fc.constantFrom(...PERMISSION_SCOPES), { minLength: 1, maxLength: 4 });
const deployment = fc
  .record(
    {
      scope: scopes,
      dseq: fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }).map(String),
      gseq: fc.integer({ min: 1, max: 100 }),
      oseq: fc.integer({ min: 1, max: 100 }),
      services: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ['scope', 'dseq', 'services'] },
  )
  .filter((d) => d.oseq === undefined || d.gseq !== undefined);
const permission = (provider: string) =>
  fc.oneof(
    fc.constant({ provider, access: 'full' as const }),
    scopes.map((scope) => ({ provider, access: 'scoped' as const, scope })),
    fc.array(deployment, { minLength: 1, maxLength: 3 }).map((deployments) => ({
      provider,
      access: 'granular' as const,
      deployments,
    })),
  );
const leases: fc.Arbitrary<Leases> = fc.oneof(
  fc.constant({ access: 'full' as const }),
  scopes.map((scope) => ({ access: 'scoped' as const, scope })),
  fc
    .shuffledSubarray(providers, { minLength: 1 })
    .chain((chosen) => fc.tuple(...chosen.map(permission)))
    .map((permissions) => ({ access: 'granular' as const, permissions })),
);
const claimsFor = (iss: string) =>
  fc
    .record(
      {
        iat: fc.integer({ min: NOW - 10_000, max: NOW }),
        nbf: fc.integer({ min: 0, max: NOW }),
        exp: fc.integer({ min: NOW + DEFAULT_LEEWAY_SECONDS, max: NOW + 10_000_000 }),
        jti: fc.string({ minLength: 1, maxLength: 16 }),
        leases,
      },
      { requiredKeys: ['iat', 'nbf', 'exp', 'leases'] },
    )
    .map((c): JwtClaims => ({ iss, version: 'v1', ...c }));

describe('properties', () => {
  it('any valid claims survive sign → verify unchanged, for both algorithms and both key sources', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(...accounts)
          .chain((account) => fc.tuple(fc.constant(account), claimsFor(account.address))),
        fc.constantFrom(...ALGS),
        fc.constantFrom(...MODES),
        ([account, claims], alg, [, mode]) => {
          const token = sign(claims, account, alg);
          const verified = verifyJwt(token, { now: NOW, ...mode });
          assert.ok(verified.ok, verified.ok ? '' : verified.error.message);
          const expected = parseClaims(claims);
          assert.ok(expected.ok);
          assert.deepEqual(verified.value.claims, expected.value);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('any single-byte change to a token makes it fail verification', () => {
    const tokens = fc.sample(
      fc
        .tuple(claimsFor(owner.address), fc.constantFrom(...ALGS))
        .map(([claims, alg]) => sign(claims, owner, alg)),
      { numRuns: 4, seed: 7 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...tokens),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(...MODES),
        (token, at, code, [, mode]) => {
          const index = at % token.length;
          fc.pre(token.charCodeAt(index) !== code);
          const mutated = `${token.slice(0, index)}${String.fromCharCode(code)}${token.slice(index + 1)}`;
          assert.equal(verifyJwt(mutated, { now: NOW, ...mode }).ok, false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
