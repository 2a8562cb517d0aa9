/**
 * The informer and the https gateway's watch against a real kube-apiserver (test/k8s/harness): list then
 * watch Services by label selector, live changes, and a watch the server ends (its timeoutSeconds) re-opened
 * from the last resourceVersion without a new list.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { appError, fail, ok, type Result } from '../../src/errors/index.js';
import { createHttpsGateway, Informer, type InformerChange, type KubeGateway } from '../../src/k8s/index.js';
import { eventually, startCluster, type TestCluster } from './cluster.js';

const NAMESPACE = 'informer-test';
const SERVICES = `/api/v1/namespaces/${NAMESPACE}/services`;
const SELECTOR = 'akash-ip.test/informer=yes';

const portSchema = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ ports: z.array(z.object({ port: z.number() })).min(1) }),
});

type Port = { readonly name: string; readonly port: number };

function parsePort(raw: unknown): Result<Port> {
  const parsed = portSchema.safeParse(raw);
  return parsed.success
    ? ok({ name: parsed.data.metadata.name, port: parsed.data.spec.ports[0]!.port })
    : fail(appError('K8S_MALFORMED', parsed.error.message));
}

let cluster: TestCluster;
let gateway: KubeGateway;

async function send(
  method: 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const answer = await gateway.request({ method, path, ...(body === undefined ? {} : { body }) });
  assert.ok(answer.ok, answer.ok ? '' : answer.error.message);
  assert.ok(answer.value.status < 300, `${method} ${path}: ${JSON.stringify(answer.value.body)}`);
  return answer.value.body as Record<string, unknown>;
}

function service(name: string, port: number, labelled: boolean) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: labelled ? { 'akash-ip.test/informer': 'yes' } : {} },
    spec: { type: 'ClusterIP', ports: [{ port, protocol: 'TCP' }] },
  };
}

describe('informer on a real apiserver', () => {
  before(async () => {
    cluster = await startCluster();
    gateway = createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token });
    await send('POST', '/api/v1/namespaces', { metadata: { name: NAMESPACE } });
  });

  after(async () => {
    gateway?.close();
    await cluster?.stop();
  });

  it('lists and watches Services by label selector, and re-opens an ended watch from its resourceVersion', async () => {
    await send('POST', SERVICES, service('first', 80, true));
    await send('POST', SERVICES, service('unlabelled', 81, false));
    const batches: string[][] = [];
    const informer = new Informer<Port>({
      gateway,
      path: '/api/v1/services',
      labelSelector: SELECTOR,
      parse: parsePort,
      name: 'services',
      // The server ends each watch after 2 s: the informer must re-open it from where it was.
      watchTimeoutSeconds: 2,
    });
    const describeChange = (c: InformerChange<Port>) =>
      `${c.type} ${c.key}${c.object ? ` ${c.object.port}` : ''}${c.previous ? ` was ${c.previous.port}` : ''}`;
    informer.subscribe((changes) => batches.push(changes.map(describeChange)));
    informer.start();
    try {
      await informer.synced();
      assert.deepEqual(batches, [[`added ${NAMESPACE}/first 80`]]);

      await send('POST', SERVICES, service('second', 90, true));
      await eventually('the add is seen', async () => (batches.length >= 2 ? true : undefined));
      await send('PATCH', `${SERVICES}/second`, { spec: { ports: [{ port: 9090, protocol: 'TCP' }] } });
      await eventually('the change is seen', async () => (batches.length >= 3 ? true : undefined));
      await send('DELETE', `${SERVICES}/first`);
      await eventually('the delete is seen', async () => (batches.length >= 4 ? true : undefined));
      assert.deepEqual(batches.slice(1), [
        [`added ${NAMESPACE}/second 90`],
        [`modified ${NAMESPACE}/second 9090 was 90`],
        [`deleted ${NAMESPACE}/first was 80`],
      ]);
      assert.deepEqual([...informer.items().keys()], [`${NAMESPACE}/second`]);

      // Let the server end the watch (timeoutSeconds) twice; the informer re-opens it without listing again.
      const watches = informer.stats().watches;
      await eventually('the ended watch is re-opened', async () =>
        informer.stats().watches >= watches + 2 ? true : undefined,
      );
      await send('POST', SERVICES, service('third', 70, true));
      await eventually('a change after the re-open is seen', async () =>
        informer.items().has(`${NAMESPACE}/third`) ? true : undefined,
      );
      const stats = informer.stats();
      assert.equal(stats.lists, 1, 'a re-opened watch does not list again');
      assert.equal(stats.relists, 0);
      assert.equal(stats.reconnects, 0, `no failure on the way: ${stats.lastError}`);
      assert.ok(Number(stats.resourceVersion) > 0);
    } finally {
      await informer.stop();
    }
  });

  it('a watch from an old resourceVersion the server still has replays the changes since', async () => {
    const listed = await gateway.request({
      method: 'GET',
      path: SERVICES,
      query: { labelSelector: SELECTOR },
    });
    assert.ok(listed.ok);
    const from = (listed.value.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    await send('POST', SERVICES, service('fourth', 60, true));
    await send('DELETE', `${SERVICES}/fourth`);
    const abort = new AbortController();
    const seen: string[] = [];
    for await (const item of gateway.watch(
      { path: SERVICES, query: { resourceVersion: from, labelSelector: SELECTOR, timeoutSeconds: '30' } },
      abort.signal,
    )) {
      assert.ok(item.ok, item.ok ? '' : item.error.message);
      const name = (item.value.object as { metadata?: { name?: string } }).metadata?.name;
      seen.push(`${item.value.type} ${name}`);
      if (seen.length === 2) abort.abort();
    }
    assert.deepEqual(seen, ['ADDED fourth', 'DELETED fourth']);
  });
});
