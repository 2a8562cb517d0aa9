import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server, type ServerOptions } from 'node:https';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { Result } from '../errors/index.js';
import { createHttpsGateway, type KubeGateway, type KubeWatchEvent } from './gateway.js';

// A test CA with a server certificate for 127.0.0.1 and a client certificate (valid until 2126).
const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const pem = (name: string) => readFileSync(join(testdata, name), 'utf8');

/** An https server on 127.0.0.1 with the test server certificate; `url` is set once it listens. */
function tlsServer(options: ServerOptions, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const state = { url: '' };
  let server: Server;
  before(async () => {
    server = createServer({ cert: pem('server.crt'), key: pem('server.key'), ...options }, handler);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    assert.ok(typeof address === 'object' && address !== null);
    state.url = `https://127.0.0.1:${address.port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return state;
}

describe('the https gateway', () => {
  // Like a kube-apiserver with --client-ca-file: asks for a client certificate (optional) and reports it.
  const server = tlsServer(
    {
      ca: pem('ca.crt'),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          authorized: socket.authorized,
          subject: peer.subject?.CN ?? null,
          authorization: req.headers.authorization ?? null,
        }),
      );
    },
  );

  it('presents the client certificate in the handshake, without a bearer token', async () => {
    const gateway = createHttpsGateway({
      server: server.url,
      ca: pem('ca.crt'),
      clientCert: { cert: pem('client.crt'), key: pem('client.key') },
    });
    const answer = await gateway.request({ method: 'GET', path: '/version' });
    gateway.close();
    assert.ok(answer.ok, answer.ok ? '' : answer.error.message);
    assert.deepEqual(answer.value.body, {
      authorized: true,
      subject: 'akash-ip test client',
      authorization: null,
    });
  });

  it('sends the bearer token when there is one, and checks the server against the CA', async () => {
    const gateway = createHttpsGateway({ server: server.url, ca: pem('ca.crt'), token: 't0ken' });
    const answer = await gateway.request({ method: 'GET', path: '/version' });
    gateway.close();
    assert.ok(answer.ok, answer.ok ? '' : answer.error.message);
    assert.deepEqual(answer.value.body, { authorized: false, subject: null, authorization: 'Bearer t0ken' });

    // Without the CA the server's certificate is not trusted: no exchange at all.
    const untrusting = createHttpsGateway({ server: server.url, token: 't0ken' });
    const refused = await untrusting.request({ method: 'GET', path: '/version' });
    untrusting.close();
    assert.ok(!refused.ok);
    assert.equal(refused.error.code, 'K8S_UNAVAILABLE');
    assert.match(refused.error.message, /self[- ]signed|unable to (get|verify)/i);
  });
});

describe('the https gateway: watch streams', () => {
  /** What the server does with the next watch request. */
  let respond: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  const seen: string[] = [];
  const server = tlsServer({}, (req, res) => {
    seen.push(req.url ?? '');
    respond(req, res);
  });

  async function drain(gateway: KubeGateway, signal = new AbortController().signal) {
    const items: Result<KubeWatchEvent>[] = [];
    for await (const item of gateway.watch(
      { path: '/api/v1/services', query: { resourceVersion: '7', labelSelector: 'a=b' } },
      signal,
    )) {
      items.push(item);
    }
    return items;
  }

  it('decodes newline-delimited events, a line split across chunks included, and ends when the server does', async () => {
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const first = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } });
      res.write(`${first}\n{"type":"MODI`);
      setImmediate(() => {
        res.write('FIED","object":{"metadata":{"name":"a","resourceVersion":"8"}}}\n\n');
        res.end(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }));
      });
    };
    const gateway = createHttpsGateway({ server: server.url, ca: pem('ca.crt'), token: 't' });
    const items = await drain(gateway);
    gateway.close();
    assert.ok(seen.at(-1)?.includes('watch=true'));
    assert.ok(seen.at(-1)?.includes('resourceVersion=7'));
    assert.deepEqual(
      items.map((item) => (item.ok ? item.value.type : item.error.code)),
      ['ADDED', 'MODIFIED', 'BOOKMARK'],
    );
    assert.deepEqual(items[1]?.ok && items[1].value.object, {
      metadata: { name: 'a', resourceVersion: '8' },
    });
  });

  it('ends with one K8S_UNAVAILABLE item on a non-200 answer, carrying the status and the server message', async () => {
    respond = (_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 403, message: 'services is forbidden' }));
    };
    const gateway = createHttpsGateway({ server: server.url, ca: pem('ca.crt') });
    const items = await drain(gateway);
    gateway.close();
    assert.equal(items.length, 1);
    const [item] = items;
    assert.ok(item !== undefined && !item.ok);
    assert.equal(item.error.code, 'K8S_UNAVAILABLE');
    assert.equal(item.error.details?.status, 403);
    assert.match(item.error.message, /services is forbidden/);
  });

  it('ends with K8S_UNAVAILABLE on a line that is not a watch event', async () => {
    respond = (_req, res) => {
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'ADDED', object: {} })}\n<html>oops</html>\n`);
    };
    const gateway = createHttpsGateway({ server: server.url, ca: pem('ca.crt') });
    const items = await drain(gateway);
    gateway.close();
    assert.deepEqual(
      items.map((item) => (item.ok ? item.value.type : item.error.code)),
      ['ADDED', 'K8S_UNAVAILABLE'],
    );
  });

  it('ends with K8S_UNAVAILABLE when the stream stays silent past the idle timeout', async () => {
    respond = (_req, res) => {
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '1' } } })}\n`);
      // …and nothing more, the connection left open.
    };
    // the idle clock runs from the connection (the TLS handshake included): 1 s leaves a loaded machine room
    const gateway = createHttpsGateway({ server: server.url, ca: pem('ca.crt'), watchIdleMs: 1000 });
    const items = await drain(gateway);
    gateway.close();
    assert.equal(items.length, 2);
    const last = items[1];
    assert.ok(last !== undefined && !last.ok);
    assert.match(last.error.message, /no data for 1000 ms/);
  });

  it('ends quietly when the signal aborts, and the request pool stays free during a long watch', async () => {
    let opened = () => {};
    const open = new Promise<void>((done) => {
      opened = done;
    });
    respond = (req, res) => {
      if (req.url?.includes('watch=true')) {
        res.writeHead(200);
        res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'x' } } })}\n`);
        opened();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"kind":"Status"}');
    };
    const gateway = createHttpsGateway({ server: server.url, ca: pem('ca.crt') });
    const abort = new AbortController();
    // Ten watches at once: more than the request pool's 8 sockets.
    const watches = Array.from({ length: 10 }, () => drain(gateway, abort.signal));
    await open;
    const answer = await gateway.request({ method: 'GET', path: '/api/v1/services' });
    assert.ok(answer.ok);
    abort.abort();
    const results = await Promise.all(watches);
    gateway.close();
    for (const items of results) assert.ok(items.every((item) => item.ok));
  });
});
