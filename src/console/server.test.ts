import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appError, fail, ok } from '../errors/index.js';
import type { Session } from '../tenant/index.js';
import type { ProviderJson, SessionJson } from './api-types.js';
import { PoolHistory } from './history.js';
import type { ProviderSource } from './provider-api.js';
import { cookieName, TOKEN_HEADER } from './security.js';
import { type ConsoleSubject, createConsoleApp } from './server.js';

const PORT = 4000;
const TOKEN = 'a-token-of-this-run';
const HOST = { host: `127.0.0.1:${PORT}` };
const ORIGIN = `http://127.0.0.1:${PORT}`;

/** The checks run before any route touches the session: a stub that answers who it is suffices. */
const session = {
  key: { name: 'tenant', address: 'akash1tenant' },
  ledgerUrl: 'http://127.0.0.1:1',
} as unknown as Session;

/** A provider view with one provider of one pool, as the daemon's own source answers. */
const PROVIDER = 'akash1provider';
const PROVIDERS: readonly ProviderJson[] = [
  {
    address: PROVIDER,
    label: PROVIDER,
    url: 'https://127.0.0.1:8443',
    pools: [
      {
        name: 'edge',
        family: 'v4',
        capacity: '4',
        allocated: '1',
        reserved: '0',
        quarantined: '0',
        available: '3',
      },
    ],
  },
];
const providers: ProviderSource = {
  providers: async () => ok(PROVIDERS),
  audit: async (address) =>
    address === PROVIDER ? ok([]) : fail(appError('NOT_FOUND', `no provider ${address} here`)),
  decisions: async () => ok([]),
};

const logged: string[] = [];
/** The console's app on PORT with TOKEN, for a tenant or for a provider's operator. */
const consoleFor = (subject: ConsoleSubject) =>
  createConsoleApp({
    subject,
    providers,
    assets: { html: '<!doctype html><title>console</title>', files: new Map() },
    examples: [],
    history: new PoolHistory(),
    token: TOKEN,
    port: () => PORT,
    sampleMs: 1000,
    logError: (error) => logged.push(error.message),
  });
const app = consoleFor({ session });

async function code(response: Response): Promise<string> {
  return ((await response.json()) as { code: string }).code;
}

describe('console server', () => {
  it('refuses an API request without the token (403)', async () => {
    const response = await app.request('/api/session', { headers: HOST });
    assert.equal(response.status, 403);
    assert.equal(await code(response), 'FORBIDDEN');
  });

  it('answers with the token in the header or in the run’s cookie', async () => {
    const byHeader = await app.request('/api/session', { headers: { ...HOST, [TOKEN_HEADER]: TOKEN } });
    assert.equal(byHeader.status, 200);
    assert.deepEqual(await byHeader.json(), {
      views: ['deploy', 'leases', 'provider'],
      tenant: { address: 'akash1tenant', key: 'tenant', ledger: 'http://127.0.0.1:1' },
      sampleMs: 1000,
    });
    const byCookie = await app.request('/api/session', {
      headers: { ...HOST, cookie: `${cookieName(PORT)}=${TOKEN}` },
    });
    assert.equal(byCookie.status, 200);
    const otherPort = await app.request('/api/session', {
      headers: { ...HOST, cookie: `${cookieName(PORT + 1)}=${TOKEN}` },
    });
    assert.equal(otherPort.status, 403);
  });

  it('refuses any other Host, token or not (DNS rebinding)', async () => {
    for (const host of ['attacker.example:4000', '127.0.0.1:4001', '0.0.0.0:4000']) {
      const response = await app.request('/api/session', { headers: { host, [TOKEN_HEADER]: TOKEN } });
      assert.equal(response.status, 403, host);
    }
    assert.equal((await app.request('/', { headers: { host: 'attacker.example' } })).status, 403);
  });

  it('takes a state change only from its own origin, as JSON', async () => {
    const post = (headers: Record<string, string>) =>
      app.request('/api/close', {
        method: 'POST',
        headers: { ...HOST, [TOKEN_HEADER]: TOKEN, ...headers },
        body: JSON.stringify({ dseq: '1' }),
      });
    assert.equal((await post({ 'content-type': 'application/json' })).status, 403);
    assert.equal(
      (await post({ origin: 'http://attacker.example', 'content-type': 'application/json' })).status,
      403,
    );
    const plain = await post({ origin: ORIGIN, 'content-type': 'text/plain' });
    assert.equal(plain.status, 400);
    assert.equal(await code(plain), 'INVALID_INPUT');
  });

  it('refuses a malformed body with our code, not an exception text', async () => {
    const response = await app.request('/api/migrate', {
      method: 'POST',
      headers: { ...HOST, [TOKEN_HEADER]: TOKEN, origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ dseq: 'x', endpoints: [], dryRun: 'yes' }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; error: string };
    assert.equal(body.code, 'INVALID_INPUT');
    assert.match(body.error, /^invalid request at dseq: /);
  });

  it('answers a bug with INTERNAL and our message, logging the exception text instead', async () => {
    // the stub session has no ledger: listing deployments throws, as a bug would
    const response = await app.request('/api/deployments', { headers: { ...HOST, [TOKEN_HEADER]: TOKEN } });
    assert.equal(response.status, 500);
    const body = (await response.json()) as { code: string; error: string };
    assert.equal(body.code, 'INTERNAL');
    assert.doesNotMatch(body.error, /undefined|TypeError|listDeployments/);
    assert.equal(logged.length, 1);
  });

  it('answers an unknown deploy job with 404', async () => {
    const response = await app.request('/api/deploy/nope/choose', {
      method: 'POST',
      headers: { ...HOST, [TOKEN_HEADER]: TOKEN, origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ pick: 'cheapest' }),
    });
    assert.equal(response.status, 404);
  });

  it('moves the URL’s token into a same-site cookie, and serves the page only with it', async () => {
    assert.equal((await app.request('/', { headers: HOST })).status, 403);
    assert.equal((await app.request('/?token=wrong', { headers: HOST })).status, 403);
    const first = await app.request(`/?token=${TOKEN}`, { headers: HOST });
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), '/');
    const cookie = first.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^${cookieName(PORT)}=${TOKEN};`));
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const page = await app.request('/', { headers: { ...HOST, cookie: `${cookieName(PORT)}=${TOKEN}` } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  });

  it('refuses a read from another site’s page too (Origin), token or not', async () => {
    const read = (origin: string) =>
      app.request('/api/providers', { headers: { ...HOST, [TOKEN_HEADER]: TOKEN, origin } });
    assert.equal((await read('http://attacker.example')).status, 403);
    assert.equal((await read(`http://127.0.0.1:${PORT + 1}`)).status, 403);
    assert.equal((await read(ORIGIN)).status, 200);
  });
});

/** The console the provider daemon serves: the provider view alone, for its operator. */
describe('provider operator’s console server', () => {
  const operator = consoleFor({ providers, provider: PROVIDER });
  const get = (path: string, headers: Record<string, string> = {}) =>
    operator.request(path, { headers: { ...HOST, ...headers } });

  it('serves the pools, audit and decisions with the token, and says it has the provider view alone', async () => {
    const session = await get('/api/session', { [TOKEN_HEADER]: TOKEN });
    assert.deepEqual((await session.json()) as SessionJson, {
      views: ['provider'],
      provider: PROVIDER,
      sampleMs: 1000,
    });
    const pools = await get('/api/providers', { cookie: `${cookieName(PORT)}=${TOKEN}` });
    assert.equal(pools.status, 200);
    assert.deepEqual(((await pools.json()) as { providers: unknown }).providers, PROVIDERS);
    assert.equal((await get(`/api/providers/${PROVIDER}/audit`, { [TOKEN_HEADER]: TOKEN })).status, 200);
    assert.equal((await get('/api/providers/akash1other/audit', { [TOKEN_HEADER]: TOKEN })).status, 404);
  });

  it('opens nothing without the token: no header, a wrong one, or a tenant’s JWT (403)', async () => {
    const jwt = 'Bearer eyJhbGciOiJFUzI1NksiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJha2FzaDF0ZW5hbnQifQ.c2ln';
    for (const headers of [
      {},
      { [TOKEN_HEADER]: 'not-the-token' },
      { authorization: jwt },
      { authorization: `Bearer ${TOKEN}` },
    ]) {
      for (const path of ['/api/session', '/api/providers', `/api/providers/${PROVIDER}/audit`]) {
        const response = await get(path, headers);
        assert.equal(response.status, 403, `${path} with ${Object.keys(headers).join(',') || 'nothing'}`);
        assert.equal(await code(response), 'FORBIDDEN');
      }
    }
    assert.equal((await get('/', { authorization: jwt })).status, 403);
  });

  it('refuses another Host or another site’s Origin, token or not', async () => {
    const rebound = await operator.request('/api/providers', {
      headers: { host: `attacker.example:${PORT}`, [TOKEN_HEADER]: TOKEN },
    });
    assert.equal(rebound.status, 403);
    const crossSite = await get('/api/providers', {
      [TOKEN_HEADER]: TOKEN,
      origin: 'https://attacker.example',
    });
    assert.equal(crossSite.status, 403);
    assert.equal(await code(crossSite), 'FORBIDDEN');
  });

  it('has no tenant routes: deploy, update, migrate and close are not there', async () => {
    for (const path of ['/api/deployments', '/api/examples']) {
      assert.equal((await get(path, { [TOKEN_HEADER]: TOKEN })).status, 404, path);
    }
    for (const path of ['/api/deploy', '/api/update', '/api/migrate', '/api/close']) {
      const response = await operator.request(path, {
        method: 'POST',
        headers: { ...HOST, [TOKEN_HEADER]: TOKEN, origin: ORIGIN, 'content-type': 'application/json' },
        body: JSON.stringify({ dseq: '1' }),
      });
      assert.equal(response.status, 404, path);
    }
  });
});
