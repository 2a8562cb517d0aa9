/**
 * What the operator's real-cluster tests share: the test cluster with the Akash provider's CRD (made as the
 * daemon's backend makes a compatible one), the manifest namespace `lease` and a MetalLB pool `default` of
 * 192.0.2.1–14, a gateway to it, and the operator started against it by kubeconfig.
 */
import assert from 'node:assert/strict';
import { memoryLogger } from '../../src/daemon/index.js';
import { createHttpsGateway, KubeBackend, type KubeGateway } from '../../src/k8s/index.js';
import {
  type OperatorFlags,
  parseOperatorConfig,
  type RunningOperator,
  runOperator,
} from '../../src/operator/index.js';
import { metallbPool, PROVIDER } from '../../src/operator/testing.js';
import { startCluster, type TestCluster } from './cluster.js';

export const LEASED_IPS = '/apis/akash.network/v2beta2/namespaces/lease/providerleasedips';

export interface OperatorCluster {
  readonly cluster: TestCluster;
  readonly gateway: KubeGateway;
  /** One request that must succeed (status below 300); its body. */
  call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
  /** The operator on this cluster with these flags besides the connection and a free port on 127.0.0.1. */
  start(flags?: OperatorFlags, logger?: ReturnType<typeof memoryLogger>): Promise<RunningOperator>;
  stop(): Promise<void>;
}

export async function operatorCluster(): Promise<OperatorCluster> {
  const cluster = await startCluster();
  const gateway = createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token });
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => {
    const answer = await gateway.request({ method, path, ...(body === undefined ? {} : { body }) });
    if (!answer.ok) assert.fail(answer.error.message);
    assert.ok(answer.value.status < 300, `${method} ${path}: ${JSON.stringify(answer.value.body)}`);
    return answer.value.body;
  };
  const crd = await new KubeBackend({ gateway, provider: PROVIDER }).prepare();
  assert.ok(crd.ok, crd.ok ? '' : crd.error.message);
  await call(
    'POST',
    `/apis/metallb.io/v1beta1/namespaces/${cluster.metallbNamespace}/ipaddresspools`,
    metallbPool('default', ['192.0.2.1-192.0.2.14'], cluster.metallbNamespace),
  );
  return {
    cluster,
    gateway,
    call,
    async start(flags = {}, logger = memoryLogger()) {
      const config = parseOperatorConfig(
        {
          provider: PROVIDER,
          kubeconfig: cluster.kubeconfig,
          restAddress: '127.0.0.1',
          restPort: '0',
          ...flags,
        },
        { AP_METALLB_NAMESPACE: cluster.metallbNamespace },
      );
      if (!config.ok) assert.fail(config.error.message);
      const started = await runOperator(config.value, { logger });
      if (!started.ok) assert.fail(started.error.message);
      return started.value;
    },
    async stop() {
      gateway.close();
      await cluster.stop();
    },
  };
}
