import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { until } from '../testing/wait.js';
import { listen, providerListener, type RequestTimeouts } from './server.js';
import { account, createHarness, type Harness, ipSdl, tokenOf, unwrap } from './testing.js';

const alice = account(0xa11ce);
const bob = account(0xb0b);

describe('the lease-status fast lane', () => {
  let h: Harness;
  let url: string;
  let close: () => Promise<void>;
  let dseq: string;

  before(async () => {
    h = await createHarness();
    h.fund(alice);
    h.fund(bob);
    const sdl = ipSdl('lane-ip');
    dseq = h.lease(alice, sdl).dseq;
    const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, {
      token: tokenOf(alice, h.clock.now),
      body: sdl.manifest,
    });
    assert.equal(sent.status, 200);
    const listener = providerListener(h.app, {
      service: () => h.service,
      readiness: h.readiness,
      verifier: h.verifier,
      metrics: h.metrics,
    });
    const { server, port } = unwrap(await listen(listener, '127.0.0.1', 0, { metrics: h.metrics }));
    url = `http://127.0.0.1:${port}`;
    close = () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
  });
  after(async () => {
    await close();
    h.close();
  });

  it('answers a verified token as the app does, and counts both lanes under one route', async () => {
    const headers = { authorization: `Bearer ${tokenOf(alice, h.clock.now, { ttlSeconds: 600 })}` };
    const first = await fetch(`${url}/lease/${dseq}/1/1/status`, { headers });
    const second = await fetch(`${url}/lease/${dseq}/1/1/status`, { headers });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('content-type'), 'application/json');
    assert.equal(await second.text(), await first.text());
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(
      metrics,
      /akash_ip_http_request_duration_seconds_count\{method="GET",route="\/lease\/:dseq\/:gseq\/:oseq\/status",status="200"\} 2/,
    );
  });

  it('leaves every refusal to the app', async () => {
    const short = tokenOf(alice, h.clock.now, { ttlSeconds: 30 });
    assert.equal(
      (await fetch(`${url}/lease/${dseq}/1/1/status`, { headers: { authorization: `Bearer ${short}` } }))
        .status,
      200,
    );
    h.clock.now += 60_000;
    try {
      const expired = await fetch(`${url}/lease/${dseq}/1/1/status`, {
        headers: { authorization: `Bearer ${short}` },
      });
      assert.equal(expired.status, 401);
      assert.equal(((await expired.json()) as { code: string }).code, 'UNAUTHENTICATED');
    } finally {
      h.clock.now -= 60_000;
    }
    const bobs = { authorization: `Bearer ${tokenOf(bob, h.clock.now)}` };
    for (let round = 0; round < 2; round++) {
      const denied = await fetch(`${url}/lease/${dseq}/1/1/status`, { headers: bobs });
      assert.equal(denied.status, 403);
      assert.equal(denied.headers.get('content-type'), 'application/json');
    }
    h.readiness.close();
    try {
      const headers = { authorization: `Bearer ${tokenOf(alice, h.clock.now)}` };
      assert.equal((await fetch(`${url}/lease/${dseq}/1/1/status`, { headers })).status, 503);
    } finally {
      h.readiness.open();
    }
  });
});

describe('requests cut short', () => {
  let h: Harness;
  /** Default time limits: a client that hangs up is that, never a timeout a stall made first. */
  let patient: Listening;
  /** 300 ms to send a request. */
  let impatient: Listening;

  interface Listening {
    readonly port: number;
    close(): Promise<void>;
  }

  async function serve(timeouts: RequestTimeouts): Promise<Listening> {
    const listener = providerListener(h.app, {
      service: () => h.service,
      readiness: h.readiness,
      verifier: h.verifier,
      metrics: h.metrics,
    });
    const listening = unwrap(
      await listen(listener, '127.0.0.1', 0, { metrics: h.metrics, logger: h.logs, ...timeouts }),
    );
    return {
      port: listening.port,
      close: () =>
        new Promise<void>((resolve) => {
          listening.server.closeAllConnections();
          listening.server.close(() => resolve());
        }),
    };
  }

  before(async () => {
    h = await createHarness();
    h.fund(alice);
    patient = await serve({});
    impatient = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 300 });
  });
  after(async () => {
    await patient.close();
    await impatient.close();
    h.close();
  });

  const errorsCounted = async (): Promise<Record<string, number>> => {
    const text = await (await fetch(`http://127.0.0.1:${patient.port}/metrics`)).text();
    return Object.fromEntries(
      [...text.matchAll(/^akash_ip_errors_total\{code="([A-Z_]+)"\} (\d+)$/gm)].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    );
  };
  /** A manifest PUT that sends a third of its body, then does what `then` says with the socket. */
  const partialManifest = (token: string) =>
    `PUT /deployment/1/manifest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
    'Content-Type: application/json\r\nContent-Length: 300\r\n\r\n[{"name":"westcoast","services":[';

  it('counts a client that hangs up mid-request as CLIENT_CLOSED, not as an error of ours', async () => {
    const socket = connect(patient.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(partialManifest(tokenOf(alice, h.clock.now)));
    await until(() => h.readiness.inFlight === 1, 'the app to wait for the body');
    socket.destroy();
    await until(async () => (await errorsCounted()).CLIENT_CLOSED === 1, 'CLIENT_CLOSED counted', {
      everyMs: 10,
    });
    assert.deepEqual(await errorsCounted(), { CLIENT_CLOSED: 1 });
    assert.deepEqual(
      h.logs.lines.filter((line) => line.level === 'error'),
      [],
    );
  });

  it('answers a request sent too slowly 408 REQUEST_TIMEOUT, as JSON, counted once as that', async () => {
    const socket = connect(impatient.port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      answer += chunk;
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(partialManifest(tokenOf(alice, h.clock.now)));
    await closed;
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(answer, /content-type: application\/json/i);
    assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), {
      error: 'the request was not received in time',
      code: 'REQUEST_TIMEOUT',
    });
    await until(async () => (await errorsCounted()).REQUEST_TIMEOUT === 1, 'REQUEST_TIMEOUT counted', {
      everyMs: 10,
    });
    assert.deepEqual(
      await errorsCounted(),
      { CLIENT_CLOSED: 1, REQUEST_TIMEOUT: 1 },
      'each once, as what it is',
    );
    assert.ok(h.logs.lines.some((line) => line.msg === 'request timed out'));
    assert.deepEqual(
      h.logs.lines.filter((line) => line.level === 'error'),
      [],
    );
  });
});
