import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PRICING } from '../market/index.js';
import { loadConfig, parseConfig } from './config.js';

const options = { defaultKeyring: '/keys/default' };
const example = join(dirname(fileURLToPath(import.meta.url)), '../../examples/provider.yaml');

function refusal(text: string): { message: string; line: unknown; col: unknown } {
  const parsed = parseConfig(text, '/etc/akash-ip/provider.yaml', options);
  assert.equal(parsed.ok, false);
  if (parsed.ok) throw new Error('unreachable');
  assert.equal(parsed.error.code, 'INVALID_INPUT');
  return { message: parsed.error.message, line: parsed.error.details?.line, col: parsed.error.details?.col };
}

describe('provider configuration', () => {
  it("serves the operator's console only when asked, its URL file beside the store", () => {
    const file = '/etc/akash-ip/provider.yaml';
    const sqlite = 'provider: {key: p1}\nstore: {kind: sqlite, path: /var/lib/akash-ip/provider.db}\n';
    const off = parseConfig(sqlite, file, options);
    assert.equal(off.ok && off.value.console, undefined);
    const flag = parseConfig(sqlite, file, { ...options, consolePort: 8444 });
    assert.deepEqual(flag.ok && flag.value.console, {
      port: 8444,
      sampleMs: 3000,
      urlFile: '/var/lib/akash-ip/provider.db.console-url',
    });
    const memory = parseConfig('provider: {key: p1}\nconsole: {sampleMs: 1000}\n', file, options);
    assert.deepEqual(memory.ok && memory.value.console, {
      port: 0,
      sampleMs: 1000,
      urlFile: '/etc/akash-ip/provider.yaml.console-url',
    });
    const named = parseConfig('provider: {key: p1}\nconsole: {port: 9000, urlFile: run/console}\n', file, {
      ...options,
      consolePort: 0,
    });
    assert.deepEqual(named.ok && named.value.console, {
      port: 0,
      sampleMs: 3000,
      urlFile: '/etc/akash-ip/run/console',
    });
    assert.match(refusal('provider: {key: p1}\nconsole: {host: 0.0.0.0}\n').message, /console\.host/);
  });

  it('fills defaults and resolves paths against the file', () => {
    const parsed = parseConfig('provider:\n  key: p1\n', '/etc/akash-ip/provider.yaml', options);
    assert.ok(parsed.ok);
    const config = parsed.value;
    assert.deepEqual(config.identity, { keyring: '/keys/default', key: 'p1' });
    assert.deepEqual(config.listen, {
      host: '127.0.0.1',
      port: 0,
      tls: {
        certFile: '/etc/akash-ip/provider-cert.pem',
        keyFile: '/etc/akash-ip/provider-key.pem',
        clientCertCacheMs: 10_000,
      },
    });
    const plain = parseConfig(
      'provider: {key: p1}\nlisten: {tls: false}\n',
      '/etc/akash-ip/provider.yaml',
      options,
    );
    assert.deepEqual(plain.ok && plain.value.listen, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(config.store, { kind: 'memory' });
    assert.deepEqual(config.pools, []);
    assert.deepEqual(config.attributes, []);
    assert.equal(config.pricing, DEFAULT_PRICING);
    assert.equal(config.ledger, undefined);
    assert.ok(Object.isFrozen(config.limits));
    assert.deepEqual(config.limits, {
      maxBodyBytes: 1 << 20,
      tokenCacheSize: 10_000,
      drainMs: 10_000,
      maintainIntervalMs: 30_000,
      authFailureBurst: 20,
      authFailuresPerMinute: 30,
    });
    const devnet = parseConfig(
      'provider: {key: p1}\nledger: {url: "http://127.0.0.1:1"}\nlimits: {maxTokenLifetimeSeconds: 900}\n',
      '/etc/akash-ip/provider.yaml',
      options,
    );
    assert.ok(devnet.ok);
    assert.equal(devnet.value.ledger?.bidTimeoutMs, 300_000, 'Akash’s --bid-timeout');
    assert.equal(devnet.value.limits.maxTokenLifetimeSeconds, 900);

    const relative = parseConfig(
      'provider: {key: p1, keyring: keys}\nstore: {kind: sqlite, path: data/p.db}\npools: [{name: a, addresses: [192.0.2.0/28]}]\n',
      '/etc/akash-ip/provider.yaml',
      options,
    );
    assert.ok(relative.ok);
    assert.equal(relative.value.identity.keyring, resolve('/etc/akash-ip/keys'));
    assert.deepEqual(relative.value.store, { kind: 'sqlite', path: resolve('/etc/akash-ip/data/p.db') });
    assert.deepEqual(relative.value.attributes, [{ key: 'ip-lease', value: 'true' }]);
  });

  it('reads JSON too, and merges pricing onto the defaults', () => {
    const parsed = parseConfig(
      JSON.stringify({ provider: { key: 'p1' }, pricing: { usdPerMonth: { ip: 7, storage: { beta3: 1 } } } }),
      'p.json',
      options,
    );
    assert.ok(parsed.ok);
    assert.equal(parsed.value.pricing.usdPerMonth.ip, 7);
    assert.equal(parsed.value.pricing.usdPerMonth.cpu, DEFAULT_PRICING.usdPerMonth.cpu);
    assert.equal(parsed.value.pricing.usdPerMonth.storage.beta3, 1);
    assert.equal(
      parsed.value.pricing.usdPerMonth.storage.ephemeral,
      DEFAULT_PRICING.usdPerMonth.storage.ephemeral,
    );
  });

  it('parses the shipped example', async () => {
    const loaded = await loadConfig(example, options);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.message);
    assert.equal(loaded.value.pools[0]?.name, 'public-v4');
    assert.equal(loaded.value.ledger?.url, 'http://127.0.0.1:26657');
    assert.ok(readFileSync(example, 'utf8').includes('203.0.113.0/28'));
  });

  it('points at the line and column of what it refuses', () => {
    assert.deepEqual(refusal('provider:\n  key: p1\nlisten:\n  prot: 3\n'), {
      message: '/etc/akash-ip/provider.yaml:4:3: listen.prot: Unrecognized key: "prot"',
      line: 4,
      col: 3,
    });
    const port = refusal('provider:\n  key: p1\nlisten:\n  port: 70000\n');
    assert.equal(port.line, 4);
    assert.equal(port.col, 9);
    assert.match(port.message, /listen\.port/);
    const pool = refusal(
      'provider: {key: p1}\npools:\n  - name: a\n    addresses: [192.0.2.0/28]\n  - name: b\n    addresses: [300.1.2.3]\n',
    );
    assert.equal(pool.line, 5);
    assert.match(pool.message, /pools\[1\]/);
    const overlap = refusal(
      'provider: {key: p1}\npools:\n  - {name: a, addresses: [192.0.2.0/28]}\n  - {name: b, addresses: [192.0.2.8/29]}\n',
    );
    assert.match(overlap.message, /pools/);
    const missing = refusal('listen: {port: 1}\n');
    assert.match(missing.message, /provider/);
    const syntax = refusal('provider:\n  key: [p1\n');
    assert.match(syntax.message, /^\/etc\/akash-ip\/provider\.yaml:\d+:\d+: /);
    const duplicate = refusal('provider: {key: p1}\nprovider: {key: p2}\n');
    assert.equal(duplicate.line, 2);
  });

  it('refuses an IP-lease attribute without a pool, and bad tenants', () => {
    assert.match(
      refusal('provider: {key: p1}\nattributes: [{key: ip-lease, value: "true"}]\n').message,
      /advertises ip-lease/,
    );
    assert.match(
      refusal('provider: {key: p1}\ntenants: [{address: akash1nope, pubkey: "02"}]\n').message,
      /tenants\[0\]\.address/,
    );
    assert.match(refusal('provider: {key: p1}\nledger: {url: "ftp://x"}\n').message, /ledger\.url/);
    assert.match(refusal('provider: {key: p1}\nadminToken: short\n').message, /adminToken/);
  });

  it('advertises the families its pools serve, and refuses one they cannot', () => {
    const attributesOf = (pools: string, extra = '') => {
      const parsed = parseConfig(
        `provider: {key: p1}\npools:\n${pools}${extra}`,
        '/etc/akash-ip/provider.yaml',
        options,
      );
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      return parsed.value.attributes.map((attribute) => attribute.key);
    };
    assert.deepEqual(attributesOf('  - {name: a, addresses: [192.0.2.0/28]}\n'), ['ip-lease']);
    assert.deepEqual(attributesOf('  - {name: a, addresses: [192.0.2.0/28, "2001:db8::/64"]}\n'), [
      'ip-lease',
      'ip-lease-ipv6',
      'ip-lease-ipv6-only',
    ]);
    // one pool per family serves IPv4 and IPv6-only endpoints, but a dual-stack endpoint needs one pool with both
    assert.deepEqual(
      attributesOf('  - {name: a, addresses: [192.0.2.0/28]}\n  - {name: b, addresses: ["2001:db8::/64"]}\n'),
      ['ip-lease', 'ip-lease-ipv6-only'],
    );
    assert.deepEqual(attributesOf('  - {name: b, addresses: ["2001:db8::/64"]}\n'), ['ip-lease-ipv6-only']);
    assert.deepEqual(attributesOf('  - {name: b, addresses: ["2001:db8::/64"]}\n', 'family: v6\n'), [
      'ip-lease',
      'ip-lease-ipv6-only',
    ]);
    assert.match(
      refusal(
        'provider: {key: p1}\npools: [{name: a, addresses: [192.0.2.0/28]}]\nattributes: [{key: ip-lease-ipv6, value: "true"}]\n',
      ).message,
      /advertises ip-lease-ipv6 "true" but no auto-assign pool serves both families/,
    );
  });

  it('has no kubernetes backend unless configured, and reads one with defaults and resolved files', () => {
    const none = parseConfig('provider: {key: p1}\n', '/etc/akash-ip/provider.yaml', options);
    assert.ok(none.ok);
    assert.equal(none.value.kubernetes, undefined);

    const files = parseConfig(
      'provider: {key: p1}\nkubernetes:\n  server: https://127.0.0.1:6443/\n  tokenFile: k8s/token\n  caFile: /etc/k8s/ca.crt\n',
      '/etc/akash-ip/provider.yaml',
      options,
    );
    assert.ok(files.ok, files.ok ? '' : files.error.message);
    assert.deepEqual(files.value.kubernetes, {
      server: 'https://127.0.0.1:6443',
      token: { file: resolve('/etc/akash-ip/k8s/token') },
      ca: { file: '/etc/k8s/ca.crt' },
      namespace: 'lease',
      metallbNamespace: 'metallb-system',
      timeoutMs: 15_000,
      retryMaxMs: 30_000,
      reconcileIntervalMs: 60_000,
    });
    assert.ok(Object.isFrozen(files.value.kubernetes?.token));

    const inline = parseConfig(
      JSON.stringify({
        provider: { key: 'p1' },
        kubernetes: {
          server: 'https://[::1]:6443',
          token: 't0ken',
          ca: '-----BEGIN CERTIFICATE-----',
          namespace: 'ip-leases',
          metallbNamespace: 'lb',
          timeoutMs: 2000,
          retryMaxMs: 500,
          reconcileIntervalMs: 0,
        },
      }),
      '/etc/akash-ip/provider.json',
      options,
    );
    assert.ok(inline.ok, inline.ok ? '' : inline.error.message);
    assert.deepEqual(inline.value.kubernetes, {
      server: 'https://[::1]:6443',
      token: { value: 't0ken' },
      ca: { value: '-----BEGIN CERTIFICATE-----' },
      namespace: 'ip-leases',
      metallbNamespace: 'lb',
      timeoutMs: 2000,
      retryMaxMs: 500,
      reconcileIntervalMs: 0,
    });
  });

  it('reads a kubeconfig reference instead of server, token and CA', () => {
    const parsed = parseConfig(
      'provider: {key: p1}\nkubernetes:\n  kubeconfig: k8s/config\n  context: admin\n  reconcileIntervalMs: 0\n',
      '/etc/akash-ip/provider.yaml',
      options,
    );
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
    assert.deepEqual(parsed.value.kubernetes, {
      kubeconfig: resolve('/etc/akash-ip/k8s/config'),
      context: 'admin',
      namespace: 'lease',
      metallbNamespace: 'metallb-system',
      timeoutMs: 15_000,
      retryMaxMs: 30_000,
      reconcileIntervalMs: 0,
    });
    const head = 'provider: {key: p1}\nkubernetes:\n';
    const mixed = refusal(`${head}  kubeconfig: /k\n  caFile: /ca.crt\n`);
    assert.equal(mixed.line, 4);
    assert.match(mixed.message, /kubernetes\.caFile: give either kubeconfig or caFile/);
    assert.match(
      refusal(`${head}  server: https://127.0.0.1:6443\n  token: t\n  ca: c\n  context: x\n`).message,
      /kubernetes\.context: context needs kubeconfig/,
    );
    assert.match(
      refusal(`${head}  namespace: lease\n`).message,
      /give server \(with token and ca\) or kubeconfig/,
    );
  });

  it('points at what it refuses in the kubernetes section', () => {
    const head = 'provider: {key: p1}\nkubernetes:\n';
    assert.deepEqual(refusal(`${head}  server: http://127.0.0.1:8080\n  token: t\n  ca: c\n`), {
      message: '/etc/akash-ip/provider.yaml:3:11: kubernetes.server: must be an https URL without a path',
      line: 3,
      col: 11,
    });
    const both = refusal(`${head}  server: https://127.0.0.1:6443\n  token: t\n  tokenFile: f\n  ca: c\n`);
    assert.equal(both.line, 5);
    assert.match(both.message, /kubernetes\.tokenFile: give exactly one of token and tokenFile/);
    const neither = refusal(`${head}  server: https://127.0.0.1:6443\n  token: t\n`);
    assert.equal(neither.line, 3);
    assert.match(neither.message, /kubernetes: give exactly one of ca and caFile/);
    const unknown = refusal(
      `${head}  server: https://127.0.0.1:6443\n  token: t\n  ca: c\n  insecure: true\n`,
    );
    assert.equal(unknown.line, 6);
    assert.match(unknown.message, /kubernetes\.insecure: Unrecognized key/);
    assert.match(
      refusal(`${head}  server: https://127.0.0.1:6443\n  token: t\n  ca: c\n  namespace: Lease_NS\n`)
        .message,
      /kubernetes\.namespace: must be a Kubernetes object name/,
    );
    assert.match(
      refusal(`${head}  server: https://127.0.0.1:6443\n  token: t\n  ca: c\n  reconcileIntervalMs: 500\n`)
        .message,
      /provider\.yaml:6:24: kubernetes\.reconcileIntervalMs: must be 0 \(no drift checks\) or at least 1000/,
    );
    // A pool becomes a MetalLB IPAddressPool of the same name.
    const pool = refusal(
      `pools:\n  - {name: a, addresses: [192.0.2.0/28]}\n  - {name: Public_V4, addresses: [198.51.100.0/28]}\n${head}  server: https://127.0.0.1:6443\n  token: t\n  ca: c\n`,
    );
    assert.equal(pool.line, 3);
    assert.match(
      pool.message,
      /pools\[1\]\.name: must be a Kubernetes object name when kubernetes is configured/,
    );
    assert.ok(
      parseConfig(
        'provider: {key: p1}\npools: [{name: Public_V4, addresses: [192.0.2.0/28]}]\n',
        'p.yaml',
        options,
      ).ok,
    );
  });

  it('reads the admission webhook block, naming the certificate after the URL by default', () => {
    const head = 'provider: {key: p1}\nkubernetes:\n  server: https://127.0.0.1:6443\n  token: t\n  ca: c\n';
    const webhookOf = (text: string) => {
      const parsed = parseConfig(`${head}${text}`, '/etc/akash-ip/provider.yaml', options);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      return parsed.value.kubernetes?.webhook;
    };
    assert.equal(webhookOf(''), undefined);
    assert.deepEqual(webhookOf('  webhook:\n    url: https://10.0.0.5:8443/mutate\n'), {
      listen: { host: '0.0.0.0', port: 8443 },
      url: 'https://10.0.0.5:8443/mutate',
      ipAddresses: ['10.0.0.5'],
      dnsNames: [],
      timeoutSeconds: 3,
      rollOnFirstAddress: false,
    });
    assert.deepEqual(webhookOf('  webhook: {url: "https://[2001:db8::5]:{port}/mutate"}\n')?.ipAddresses, [
      '2001:db8::5',
    ]);
    const named = webhookOf(
      '  webhook:\n    listen: {host: 127.0.0.1, port: 0}\n    url: https://provider.example.com:{port}/mutate\n    dnsNames: [provider.example.com, webhook.example.com]\n    timeoutSeconds: 5\n    rollOnFirstAddress: true\n',
    );
    assert.deepEqual(named, {
      listen: { host: '127.0.0.1', port: 0 },
      url: 'https://provider.example.com:{port}/mutate',
      ipAddresses: [],
      dnsNames: ['provider.example.com', 'webhook.example.com'],
      timeoutSeconds: 5,
      rollOnFirstAddress: true,
    });
  });

  it('points at what it refuses in the webhook block', () => {
    const head =
      'provider: {key: p1}\nkubernetes:\n  server: https://127.0.0.1:6443\n  token: t\n  ca: c\n  webhook:\n';
    assert.deepEqual(refusal(`${head}    url: http://10.0.0.5:8443/mutate\n`), {
      message:
        '/etc/akash-ip/provider.yaml:7:10: kubernetes.webhook.url: must be an https URL with a path, e.g. https://10.0.0.5:8443/mutate',
      line: 7,
      col: 10,
    });
    assert.match(
      refusal(`${head}    url: https://10.0.0.5:8443\n`).message,
      /webhook\.url: must be an https URL/,
    );
    assert.match(refusal(`${head}    listen: {port: 8443}\n`).message, /kubernetes\.webhook\.url/);
    const other = refusal(`${head}    url: https://10.0.0.5:8443/mutate\n    ipAddresses: [10.0.0.6]\n`);
    assert.equal(other.line, 8);
    assert.match(other.message, /webhook\.ipAddresses: must include the url's host 10\.0\.0\.5/);
    assert.match(
      refusal(`${head}    url: https://10.0.0.5:8443/mutate\n    ipAddresses: [not-an-ip]\n`).message,
      /webhook\.ipAddresses\[0\]: must be an IP address/,
    );
    assert.match(
      refusal(`${head}    url: https://10.0.0.5:8443/mutate\n    timeoutSeconds: 31\n`).message,
      /webhook\.timeoutSeconds/,
    );
    assert.match(
      refusal(`${head}    url: https://10.0.0.5:8443/mutate\n    rollOnFirst: true\n`).message,
      /webhook\.rollOnFirst: Unrecognized key/,
    );
  });

  it('says when the file cannot be read', async () => {
    const loaded = await loadConfig('/nonexistent/provider.yaml', options);
    assert.ok(!loaded.ok);
    assert.match(loaded.error.message, /no such file/);
  });
});
