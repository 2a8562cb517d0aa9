import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inClusterConnection, parseOperatorConfig } from './config.js';
import { PROVIDER } from './testing.js';

const KUBE = { AP_KUBECONFIG: '/etc/kube/config' };

function parsed(...args: Parameters<typeof parseOperatorConfig>) {
  const result = parseOperatorConfig(...args);
  if (!result.ok) assert.fail(result.error.message);
  return result.value;
}

function refusal(...args: Parameters<typeof parseOperatorConfig>): string {
  const result = parseOperatorConfig(...args);
  if (result.ok) assert.fail('expected a refusal');
  assert.equal(result.error.code, 'USAGE');
  return result.error.message;
}

describe('operator config', () => {
  it("has the Go operator's defaults", () => {
    const config = parsed({ provider: PROVIDER }, KUBE);
    assert.deepEqual(
      { ...config },
      {
        provider: PROVIDER,
        manifestNamespace: 'lease',
        metallbNamespace: 'metallb-system',
        pools: ['default'],
        restAddress: '0.0.0.0',
        restPort: 8080,
        quarantineMs: 3_600_000,
        family: 'v4',
        kube: { kind: 'kubeconfig', file: '/etc/kube/config' },
      },
    );
  });

  it('--ip-family (AP_IP_FAMILY) names the default family; --akash-rest (AP_AKASH_REST) the chain to read orders from', () => {
    assert.equal(parsed({ provider: PROVIDER, ipFamily: 'ipv6' }, KUBE).family, 'v6');
    const env = { ...KUBE, AP_IP_FAMILY: 'dual', AP_AKASH_REST: 'https://api.akashnet.net' };
    const config = parsed({ provider: PROVIDER }, env);
    assert.equal(config.family, 'dual');
    assert.equal(config.akashRest, 'https://api.akashnet.net');
    assert.equal(parsed({ provider: PROVIDER, ipFamily: 'ipv4' }, env).family, 'v4');
    assert.match(
      refusal({ provider: PROVIDER, ipFamily: 'v6' }, KUBE),
      /--ip-family must be ipv4, ipv6 or dual/,
    );
    assert.match(refusal({ provider: PROVIDER, ipFamily: 'toString' }, KUBE), /--ip-family/);
    for (const url of ['ftp://node', 'api.akashnet.net', 'https://node/?x=1']) {
      assert.match(refusal({ provider: PROVIDER, akashRest: url }, KUBE), /--akash-rest must be/);
    }
  });

  it("reads the Go operator's AP_* variables; a flag wins over its variable", () => {
    const env = {
      AP_PROVIDER: PROVIDER,
      AP_K8S_MANIFEST_NS: 'manifests',
      AP_METAL_LB_POOL: 'public, extra',
      AP_REST_PORT: '9090',
      AP_REST_ADDRESS: '127.0.0.1',
      KUBECONFIG: '/home/k/.kube/config',
      AP_STATE: '/data/state.db',
      AP_QUARANTINE: '30m',
    };
    const config = parsed({}, env);
    assert.equal(config.manifestNamespace, 'manifests');
    assert.deepEqual(config.pools, ['public', 'extra']);
    assert.equal(config.restPort, 9090);
    assert.equal(config.restAddress, '127.0.0.1');
    assert.equal(config.stateFile, '/data/state.db');
    assert.equal(config.quarantineMs, 1_800_000);
    assert.deepEqual(config.kube, { kind: 'kubeconfig', file: '/home/k/.kube/config' });
    const flagged = parsed(
      { restPort: '7000', metalLbPool: ['a', 'b,c'], kubeconfig: '/k', kubeContext: 'x' },
      env,
    );
    assert.equal(flagged.restPort, 7000);
    assert.deepEqual(flagged.pools, ['a', 'b', 'c']);
    assert.deepEqual(flagged.kube, { kind: 'kubeconfig', file: '/k', context: 'x' });
  });

  it('refuses bad input naming the flag', () => {
    assert.match(refusal({}, KUBE), /--provider \(AP_PROVIDER\) is required/);
    assert.match(refusal({ provider: 'akash1notanaddress' }, KUBE), /--provider must be an akash1 bech32/);
    assert.match(refusal({ provider: PROVIDER, restPort: '70000' }, KUBE), /--rest-port/);
    assert.match(refusal({ provider: PROVIDER, k8sManifestNs: 'Lease!' }, KUBE), /--k8s-manifest-ns/);
    assert.match(refusal({ provider: PROVIDER, quarantine: 'soon' }, KUBE), /--quarantine/);
    assert.match(refusal({ provider: PROVIDER }, {}), /no Kubernetes connection/);
  });

  it("uses the pod's service account when there is no kubeconfig", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sa-'));
    await writeFile(join(dir, 'token'), 'secret-token\n');
    await writeFile(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n');
    const config = parsed(
      { provider: PROVIDER },
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      dir,
    );
    assert.deepEqual(config.kube, {
      kind: 'in-cluster',
      server: 'https://[fd00::1]:443',
      serviceAccountDir: dir,
    });
    if (config.kube.kind !== 'in-cluster') return;
    const connection = await inClusterConnection(config.kube);
    assert.deepEqual(connection, {
      ok: true,
      value: { server: 'https://[fd00::1]:443', token: 'secret-token', ca: '-----BEGIN CERTIFICATE-----\n' },
    });
    const missing = await inClusterConnection({ ...config.kube, serviceAccountDir: join(dir, 'none') });
    assert.match(missing.ok ? '' : missing.error.message, /service-account token .*ENOENT/);
  });

  it("reads the chart's webhook variables: the Service the apiserver calls, its DNS name in the certificate", () => {
    assert.equal(parsed({ provider: PROVIDER }, KUBE).webhook, undefined);
    const chart = {
      ...KUBE,
      AP_PROVIDER: PROVIDER,
      AP_WEBHOOK_PORT: '8443',
      AP_WEBHOOK_SERVICE_NAME: 'akash-ip-operator-webhook',
      AP_WEBHOOK_SERVICE_NAMESPACE: 'akash-services',
      AP_WEBHOOK_SERVICE_PORT: '443',
      AP_WEBHOOK_CONFIGURATION_NAME: 'akash-services-akash-ip-operator-leased-ips',
      AP_WEBHOOK_TIMEOUT_SECONDS: '5',
      AP_ROLL_ON_FIRST_ADDRESS: 'false',
    };
    assert.deepEqual(parsed({}, chart).webhook, {
      port: 8443,
      endpoint: { service: { name: 'akash-ip-operator-webhook', namespace: 'akash-services', port: 443 } },
      ipAddresses: [],
      dnsNames: ['akash-ip-operator-webhook.akash-services.svc'],
      configurationName: 'akash-services-akash-ip-operator-leased-ips',
      timeoutSeconds: 5,
      rollOnFirstAddress: false,
    });
    assert.equal(parsed({ rollOnFirstAddress: 'true' }, chart).webhook?.rollOnFirstAddress, true);
    const byUrl = parsed(
      { provider: PROVIDER, webhookPort: '0', webhookUrl: 'https://127.0.0.1:{port}/mutate' },
      KUBE,
    );
    assert.deepEqual(byUrl.webhook, {
      port: 0,
      endpoint: { url: 'https://127.0.0.1:{port}/mutate' },
      ipAddresses: ['127.0.0.1'],
      dnsNames: [],
      timeoutSeconds: 3,
      rollOnFirstAddress: false,
    });
  });

  it('refuses a webhook it could not serve, and any webhook setting or the roll without --webhook-port', () => {
    const base = { provider: PROVIDER, webhookPort: '8443' };
    assert.match(refusal(base, KUBE), /--webhook-port needs how the apiserver reaches it/);
    assert.match(
      refusal(
        {
          ...base,
          webhookUrl: 'https://10.0.0.5/mutate',
          webhookServiceName: 's',
          webhookServiceNamespace: 'n',
        },
        KUBE,
      ),
      /not both/,
    );
    assert.match(
      refusal({ ...base, webhookUrl: 'http://10.0.0.5/mutate' }, KUBE),
      /--webhook-url must be an https URL/,
    );
    const url = { ...base, webhookUrl: 'https://10.0.0.5:8443/mutate' };
    assert.match(refusal({ ...url, webhookTimeoutSeconds: '31' }, KUBE), /--webhook-timeout-seconds/);
    assert.match(
      refusal({ ...url, rollOnFirstAddress: 'yes' }, KUBE),
      /--roll-on-first-address must be true or false/,
    );
    assert.match(refusal({ ...url, webhookPort: '65536' }, KUBE), /--webhook-port/);
    assert.match(
      refusal({ provider: PROVIDER, webhookUrl: 'https://10.0.0.5/mutate' }, KUBE),
      /AP_WEBHOOK_URL is set but the webhook is off/,
    );
    assert.match(
      refusal({ provider: PROVIDER, rollOnFirstAddress: 'true' }, KUBE),
      /--roll-on-first-address needs the webhook/,
    );
  });
});
