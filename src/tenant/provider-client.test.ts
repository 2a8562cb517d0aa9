import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressOf, decodeJwt, generatePrivateKey, publicKeyOf } from '../identity/index.js';
import { freeIps, ProviderClient } from './provider-client.js';

const privateKey = generatePrivateKey();
const address = addressOf(publicKeyOf(privateKey));

interface Seen {
  url: string;
  method: string;
  authorization: string | undefined;
  body: string | undefined;
}

function client(answer: (seen: Seen) => Response, signed = true): { client: ProviderClient; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const request: Seen = {
      url,
      method: init.method ?? 'GET',
      authorization: headers.authorization,
      body: typeof init.body === 'string' ? init.body : undefined,
    };
    seen.push(request);
    return answer(request);
  };
  return {
    client: new ProviderClient({
      url: 'http://127.0.0.1:8443/',
      fetch,
      ...(signed ? { signer: { privateKey, address } } : {}),
    }),
    seen,
  };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function scopeOf(authorization: string | undefined): unknown {
  assert.ok(authorization?.startsWith('Bearer '));
  const decoded = decodeJwt(authorization?.slice('Bearer '.length) ?? '');
  assert.ok(decoded.ok);
  assert.equal(decoded.value.claims.iss, address);
  return decoded.value.claims.leases;
}

describe('ProviderClient', () => {
  it('sends each call with a token scoped to that call only', async () => {
    const { client: c, seen } = client((request) =>
      request.url.endsWith('/status') && request.method === 'GET' && !request.url.includes('/lease/')
        ? json({ cluster: { inventory: {} } })
        : request.url.includes('/lease/')
          ? json({ ips: null })
          : json({ transferred: ['web'] }),
    );
    assert.ok((await c.sendManifest('7', '[]')).ok);
    assert.ok((await c.leaseStatus({ dseq: '7', gseq: 1, oseq: 2 })).ok);
    assert.ok(
      (await c.migrate({ endpoints_to_migrate: ['web'], destination_dseq: '7', destination_gseq: 1 })).ok,
    );
    assert.ok((await c.status()).ok);
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url}`),
      [
        'PUT http://127.0.0.1:8443/deployment/7/manifest',
        'GET http://127.0.0.1:8443/lease/7/1/2/status',
        'POST http://127.0.0.1:8443/endpoint/migrate',
        'GET http://127.0.0.1:8443/status',
      ],
    );
    assert.deepEqual(scopeOf(seen[0]?.authorization), { access: 'scoped', scope: ['send-manifest'] });
    assert.deepEqual(scopeOf(seen[1]?.authorization), { access: 'scoped', scope: ['status'] });
    assert.deepEqual(scopeOf(seen[2]?.authorization), { access: 'scoped', scope: ['ip-migrate'] });
    assert.equal(seen[3]?.authorization, undefined);
    assert.deepEqual(JSON.parse(seen[2]?.body ?? ''), {
      endpoints_to_migrate: ['web'],
      destination_dseq: 7,
      destination_gseq: 1,
    });
  });

  it('keeps the provider’s error code and message', async () => {
    const { client: c } = client(() => json({ error: 'not yours', code: 'FORBIDDEN' }, 403));
    const status = await c.leaseStatus({ dseq: '7', gseq: 1, oseq: 1 });
    assert.ok(!status.ok);
    assert.equal(status.error.code, 'FORBIDDEN');
    assert.equal(status.error.message, 'not yours');
  });

  it('maps unknown codes and bare statuses to the nearest code', async () => {
    const cases: [Response, string][] = [
      [json({ error: 'x', code: 'SOMETHING_ELSE' }, 401), 'UNAUTHENTICATED'],
      [new Response('', { status: 404 }), 'NOT_FOUND'],
      [new Response('oops', { status: 500 }), 'UNAVAILABLE'],
      [new Response('', { status: 422 }), 'INVALID_INPUT'],
    ];
    for (const [response, code] of cases) {
      const { client: c } = client(() => response);
      const answer = await c.status();
      assert.ok(!answer.ok);
      assert.equal(answer.error.code, code);
    }
  });

  it('reports an unreachable provider, non-JSON and unexpected shapes as values', async () => {
    const down = new ProviderClient({
      url: 'http://127.0.0.1:9',
      fetch: () => Promise.reject(new Error('ECONNREFUSED')),
    });
    const refused = await down.status();
    assert.ok(!refused.ok);
    assert.equal(refused.error.code, 'UNAVAILABLE');
    assert.match(refused.error.message, /did not answer .*is it running\?/);

    const text = await client(() => new Response('hello')).client.status();
    assert.ok(!text.ok);
    assert.equal(text.error.code, 'UNAVAILABLE');

    const shape = await client(() => json({ cluster: 3 })).client.status();
    assert.ok(!shape.ok);
    assert.equal(shape.error.code, 'INTERNAL');
  });

  it('needs a key for tenant routes', async () => {
    const { client: c, seen } = client(() => json({}), false);
    const answer = await c.leaseStatus({ dseq: '1', gseq: 1, oseq: 1 });
    assert.ok(!answer.ok);
    assert.equal(answer.error.code, 'UNAUTHENTICATED');
    assert.equal(seen.length, 0);
  });
});

describe('freeIps', () => {
  it('prefers the breakdown, else capacity minus allocated, floored at zero', async () => {
    const status = (body: unknown) => client(() => json(body)).client.status();
    const breakdown = await status({
      cluster: { inventory: { leased_ip: { capacity: '4', allocatable: '4', allocated: '3' } } },
      ip_leases: { in_use: '2', reserved: '1', quarantined: '0', available: '1' },
    });
    assert.ok(breakdown.ok);
    assert.equal(freeIps(breakdown.value), 1n);
    const bare = await status({ cluster: { inventory: { leased_ip: { capacity: 4, allocated: 6 } } } });
    assert.ok(bare.ok);
    assert.equal(freeIps(bare.value), 0n);
    const huge = await status({
      cluster: { inventory: { leased_ip: { capacity: '18446744073709551616', allocated: '1' } } },
    });
    assert.ok(huge.ok);
    assert.equal(freeIps(huge.value), 18446744073709551615n);
    const none = await status({ cluster: { inventory: {} } });
    assert.ok(none.ok);
    assert.equal(freeIps(none.value), 0n);
  });
});
