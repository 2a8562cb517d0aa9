import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeKubeGateway, KubeClient } from '../k8s/index.js';
import { webhookConfiguration } from './install.js';
import { rollOnce } from './pods.js';

interface Hook {
  clientConfig: Record<string, unknown>;
  namespaceSelector: unknown;
  objectSelector: unknown;
  failurePolicy: string;
  timeoutSeconds: number;
  sideEffects: string;
  rules: unknown[];
}

describe('MutatingWebhookConfiguration', () => {
  it("selects this provider's lease namespaces and manifest-service pods, CREATE only, never failing closed", () => {
    const config = webhookConfiguration({
      provider: 'akash1provider',
      endpoint: { url: 'https://192.0.2.10:8443/mutate' },
      caBundle: 'PEM',
    }) as { webhooks: Hook[]; metadata: { labels: Record<string, string> } };
    assert.equal(config.metadata.labels['app.kubernetes.io/managed-by'], 'akash-ip');
    const [hook] = config.webhooks;
    assert.ok(hook !== undefined);
    assert.deepEqual(hook.clientConfig, {
      url: 'https://192.0.2.10:8443/mutate',
      caBundle: Buffer.from('PEM').toString('base64'),
    });
    assert.deepEqual(hook.namespaceSelector, {
      matchLabels: { 'akash.network': 'true', 'akash.network/lease.id.provider': 'akash1provider' },
      matchExpressions: [{ key: 'akash.network/lease.id.owner', operator: 'Exists' }],
    });
    assert.deepEqual(hook.objectSelector, {
      matchExpressions: [{ key: 'akash.network/manifest-service', operator: 'Exists' }],
    });
    assert.equal(hook.failurePolicy, 'Ignore');
    assert.equal(hook.timeoutSeconds, 3);
    assert.equal(hook.sideEffects, 'None');
    assert.deepEqual(hook.rules, [
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        operations: ['CREATE'],
        resources: ['pods'],
        scope: 'Namespaced',
      },
    ]);
  });

  it('points at a Service in cluster (the chart)', () => {
    const config = webhookConfiguration({
      provider: 'akash1provider',
      endpoint: { service: { namespace: 'akash-services', name: 'akash-ip-operator' } },
      caBundle: 'PEM',
      timeoutSeconds: 5,
    }) as { webhooks: Hook[] };
    assert.deepEqual(config.webhooks[0]?.clientConfig.service, {
      namespace: 'akash-services',
      name: 'akash-ip-operator',
      port: 443,
      path: '/mutate',
    });
    assert.equal(config.webhooks[0]?.timeoutSeconds, 5);
  });
});

describe('roll once', () => {
  it('makes no request at all without the opt-in', async () => {
    const gateway = new FakeKubeGateway();
    const result = await rollOnce(
      new KubeClient(gateway),
      'ns',
      () => ({ AKASH_LEASED_IP_WEB: '192.0.2.1' }),
      {
        enabled: false,
      },
    );
    assert.deepEqual(result, { ok: true, value: { rolled: [], alreadyRolled: [] } });
    assert.equal(gateway.requests.length, 0);
  });
});
