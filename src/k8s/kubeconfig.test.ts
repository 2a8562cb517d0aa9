import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadKubeconfig } from './kubeconfig.js';

const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\n';
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('kubeconfig', () => {
  let dir: string;
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const refusal = async (text: string, context?: string) => {
    const path = write('refused.yaml', text);
    const loaded = await loadKubeconfig(path, context);
    assert.ok(!loaded.ok, 'refused');
    assert.equal(loaded.error.code, 'INVALID_INPUT');
    return { message: loaded.error.message.replace(path, 'FILE'), line: loaded.error.details?.line };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'akash-ip-kubeconfig-'));
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), CA);
    writeFileSync(join(dir, 'pki', 'client.crt'), CERT);
    writeFileSync(join(dir, 'pki', 'client.key'), KEY);
    writeFileSync(join(dir, 'pki', 'token'), 'from-file\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const twoContexts = `apiVersion: v1
kind: Config
current-context: admin
clusters:
  - name: local
    cluster:
      server: https://127.0.0.1:6443/
      certificate-authority: pki/ca.crt
  - name: other
    cluster:
      server: https://[::1]:8443
      certificate-authority-data: ${b64(CA)}
users:
  - name: admin
    user:
      token: t0ken
  - name: robot
    user:
      client-certificate: pki/client.crt
      client-key-data: ${b64(KEY)}
      tokenFile: pki/token
contexts:
  - name: admin
    context: {cluster: local, user: admin, namespace: default}
  - name: robot
    context: {cluster: other, user: robot}
preferences: {}
`;

  it('reads the current context: server, CA file relative to the kubeconfig, token', async () => {
    const loaded = await loadKubeconfig(write('config', twoContexts));
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.message);
    assert.deepEqual(loaded.value, { server: 'https://127.0.0.1:6443', ca: CA, token: 't0ken' });
  });

  it('reads a named context: inline CA data, client certificate file and key data, token file', async () => {
    const loaded = await loadKubeconfig(write('config', twoContexts), 'robot');
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.message);
    assert.deepEqual(loaded.value, {
      server: 'https://[::1]:8443',
      ca: CA,
      token: 'from-file',
      clientCert: { cert: CERT, key: KEY },
    });
  });

  it('a client certificate alone is enough; without a CA the system roots are used', async () => {
    const loaded = await loadKubeconfig(
      write(
        'cert-only.yaml',
        `current-context: c\nclusters: [{name: k, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: u, user: {client-certificate-data: ${b64(CERT)}, client-key: pki/client.key}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n`,
      ),
    );
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.message);
    assert.deepEqual(loaded.value, {
      server: 'https://127.0.0.1:6443',
      clientCert: { cert: CERT, key: KEY },
    });
  });

  it('points at the line of what it refuses', async () => {
    const head = 'current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n';
    const cluster = 'clusters:\n  - name: k\n    cluster:\n      server: https://127.0.0.1:6443\n';
    const user = 'users:\n  - name: u\n    user:\n      token: t\n';

    assert.deepEqual(await refusal(`${head}${cluster}      insecure-skip-tls-verify: true\n${user}`), {
      message:
        "FILE:7:33: clusters[0].cluster.insecure-skip-tls-verify: must be false: the server's certificate is always checked",
      line: 7,
    });
    const exec = await refusal(`${head}${cluster}${user}      exec: {command: aws}\n`);
    assert.equal(exec.line, 11);
    assert.match(exec.message, /users\[0\]\.user\.exec: a credential plugin \(exec\)/);
    const http = await refusal(`${head}clusters: [{name: k, cluster: {server: "http://x:8080"}}]\n${user}`);
    assert.equal(http.line, 3);
    assert.match(http.message, /clusters\[0\]\.cluster\.server: must be an https URL/);

    const noContext = await refusal(`current-context: nope\n${cluster}${user}`);
    assert.deepEqual(noContext, { message: 'FILE:1:18: current-context: no context named "nope"', line: 1 });
    assert.match((await refusal(`${head}${cluster}${user}`, 'other')).message, /no context named "other"/);
    assert.match((await refusal(`${cluster}${user}`)).message, /no current-context/);
    const noUser = await refusal(`${head}${cluster}users: []\n`);
    assert.equal(noUser.line, 2);
    assert.match(noUser.message, /contexts\[0\]\.context\.user: no user named "u"/);

    const missing = await refusal(
      `${head}clusters: [{name: k, cluster: {server: "https://x:1", certificate-authority: pki/gone.crt}}]\n${user}`,
    );
    assert.equal(missing.line, 3);
    assert.match(missing.message, /certificate-authority: cannot read .*pki\/gone\.crt/);
    const both = await refusal(
      `${head}${cluster}      certificate-authority: pki/ca.crt\n      certificate-authority-data: ${b64(CA)}\n${user}`,
    );
    assert.equal(both.line, 8);
    assert.match(both.message, /give one of certificate-authority and certificate-authority-data/);
    const keyless = await refusal(
      `${head}${cluster}users: [{name: u, user: {client-certificate: pki/client.crt}}]\n`,
    );
    assert.match(keyless.message, /a client certificate needs its key/);
    const none = await refusal(`${head}${cluster}users: [{name: u, user: {}}]\n`);
    assert.match(none.message, /users\[0\]\.user: no credentials/);

    const syntax = await refusal('clusters: [\n');
    assert.match(syntax.message, /^FILE:\d+:\d+: /);
    const gone = await loadKubeconfig(join(dir, 'nonexistent'));
    assert.ok(!gone.ok);
    assert.match(gone.error.message, /cannot read the kubeconfig .*nonexistent/);
  });
});
