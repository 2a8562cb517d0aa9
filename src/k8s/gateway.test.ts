import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createHttpsGateway } from './gateway.js';

// A test CA with a server certificate for 127.0.0.1 and a client certificate (valid until 2126).
const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const pem = (name: string) => readFileSync(join(testdata, name), 'utf8');

describe('the https gateway', () => {
  let server: Server;
  let url: string;

  before(async () => {
    // Like a kube-apiserver with --client-ca-file: asks for a client certificate (optional) and reports it.
    server = createServer(
      {
        cert: pem('server.crt'),
        key: pem('server.key'),
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
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    assert.ok(typeof address === 'object' && address !== null);
    url = `https://127.0.0.1:${address.port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });

  it('presents the client certificate in the handshake, without a bearer token', async () => {
    const gateway = createHttpsGateway({
      server: url,
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
    const gateway = createHttpsGateway({ server: url, ca: pem('ca.crt'), token: 't0ken' });
    const answer = await gateway.request({ method: 'GET', path: '/version' });
    gateway.close();
    assert.ok(answer.ok, answer.ok ? '' : answer.error.message);
    assert.deepEqual(answer.value.body, { authorized: false, subject: null, authorization: 'Bearer t0ken' });

    // Without the CA the server's certificate is not trusted: no exchange at all.
    const untrusting = createHttpsGateway({ server: url, token: 't0ken' });
    const refused = await untrusting.request({ method: 'GET', path: '/version' });
    untrusting.close();
    assert.ok(!refused.ok);
    assert.equal(refused.error.code, 'K8S_UNAVAILABLE');
    assert.match(refused.error.message, /self[- ]signed|unable to (get|verify)/i);
  });
});
