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
        kube: { kind: 'kubeconfig', file: '/etc/kube/config' },
      },
    );
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
});
