import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Result } from '../errors/index.js';
import { FakeKubeGateway } from './fake-gateway.js';
import type { KubeRequest, KubeResponse, KubeWatchEvent } from './gateway.js';

// biome-ignore lint/suspicious/noExplicitAny: assertions read deep into JSON answers; their shape is what is tested.
type Json = Record<string, any>;

const SERVICES = '/api/v1/namespaces/tenant/services';

async function call(fake: FakeKubeGateway, req: KubeRequest): Promise<{ status: number; body: Json }> {
  const answer = await fake.request(req);
  assert.ok(answer.ok, answer.ok ? '' : answer.error.message);
  return answer.value as KubeResponse & { body: Json };
}

function service(name: string, labels: Record<string, string> = {}, port = 80): Json {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec: { ports: [{ port }] } };
}

/** A fake with the namespace `tenant`. */
function cluster(): FakeKubeGateway {
  const fake = new FakeKubeGateway();
  fake.add('/api/v1/namespaces', { metadata: { name: 'tenant' } });
  return fake;
}

/** Reads a watch into an array as it runs; `until(n)` resolves once `n` items arrived or the stream ended. */
function collect(fake: FakeKubeGateway, path: string, query: Record<string, string>) {
  const abort = new AbortController();
  const items: Result<KubeWatchEvent>[] = [];
  let ended = false;
  let changed = () => {};
  const done = (async () => {
    for await (const item of fake.watch({ path, query }, abort.signal)) {
      items.push(item);
      changed();
    }
    ended = true;
    changed();
  })();
  const events = () => items.flatMap((item) => (item.ok ? [item.value] : []));
  return {
    items,
    events,
    summary: () => events().map((e) => `${e.type} ${(e.object as Json).metadata?.name ?? ''}`.trim()),
    until: async (n: number) => {
      while (items.length < n && !ended) await new Promise<void>((resolve) => (changed = resolve));
    },
    stop: async () => {
      abort.abort();
      await done;
    },
    done,
  };
}

/** Waits for the watch generator to run up to its first wait (it starts on the next microtasks). */
const settle = () => new Promise((done) => setImmediate(done));

describe('FakeKubeGateway: objects', () => {
  it('creates with server fields, reads deep copies, and refuses a second create (409 AlreadyExists)', async () => {
    const fake = cluster();
    const created = await call(fake, { method: 'POST', path: SERVICES, body: service('web') });
    assert.equal(created.status, 201);
    const meta = created.body.metadata;
    assert.equal(meta.namespace, 'tenant');
    assert.match(meta.uid, /^[0-9a-f-]{36}$/);
    assert.match(meta.resourceVersion, /^\d+$/);
    assert.equal(meta.generation, undefined, 'core kinds count no generations');
    assert.equal(created.body.kind, 'Service');
    assert.match(meta.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    created.body.spec.ports[0].port = 1;
    const read = await call(fake, { method: 'GET', path: `${SERVICES}/web` });
    assert.equal(read.body.spec.ports[0].port, 80, 'the stored object is not the one handed out');
    const again = await call(fake, { method: 'POST', path: SERVICES, body: service('web') });
    assert.equal(again.status, 409);
    assert.equal(again.body.kind, 'Status');
    assert.equal(again.body.reason, 'AlreadyExists');
    assert.equal(again.body.code, 409);
    const missing = await call(fake, { method: 'GET', path: `${SERVICES}/nope` });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.reason, 'NotFound');
  });

  it('needs the namespace, as the apiserver does, and a namespace delete takes its objects', async () => {
    const fake = new FakeKubeGateway();
    const refused = await call(fake, { method: 'POST', path: SERVICES, body: service('web') });
    assert.equal(refused.status, 404);
    assert.match(refused.body.message, /namespaces "tenant" not found/);
    fake.add('/api/v1/namespaces', { metadata: { name: 'tenant' } });
    assert.equal((await call(fake, { method: 'POST', path: SERVICES, body: service('web') })).status, 201);
    assert.equal(
      (await call(fake, { method: 'GET', path: '/api/v1/namespaces/tenant' })).body.status.phase,
      'Active',
    );
    assert.equal((await call(fake, { method: 'DELETE', path: '/api/v1/namespaces/tenant' })).status, 200);
    assert.deepEqual(fake.objects('/api/v1/services'), []);
  });

  it('PUT replaces and refuses a stale resourceVersion (409 Conflict); a custom resource counts spec changes', async () => {
    const fake = cluster();
    const things = '/apis/example.com/v1/namespaces/tenant/things';
    const created = fake.add(things, { metadata: { name: 'one' }, spec: { size: 1 } }) as Json;
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.apiVersion, 'example.com/v1');
    const next = { ...created, spec: { size: 2 } };
    const replaced = await call(fake, { method: 'PUT', path: `${things}/one`, body: next });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.spec.size, 2);
    assert.equal(replaced.body.metadata.generation, 2);
    assert.equal(replaced.body.metadata.uid, created.metadata.uid);
    assert.ok(Number(replaced.body.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    const stale = await call(fake, { method: 'PUT', path: `${things}/one`, body: next });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, 'Conflict');
    // A label change is no spec change.
    const labelled = await call(fake, {
      method: 'PATCH',
      path: `${things}/one`,
      body: { metadata: { labels: { a: 'b' } } },
    });
    assert.equal(labelled.body.metadata.generation, 2);
    // A PUT to a missing object is 404, except for a Service, which the apiserver creates.
    assert.equal((await call(fake, { method: 'PUT', path: `${things}/two`, body: next })).status, 404);
    const put = await call(fake, { method: 'PUT', path: `${SERVICES}/new`, body: service('new') });
    assert.equal(put.status, 201);
  });

  it('PATCH is an RFC 7386 merge patch; an identical write is no write (same resourceVersion)', async () => {
    const fake = cluster();
    const path = '/api/v1/namespaces/tenant/configmaps';
    fake.add(path, {
      metadata: { name: 'cm', labels: { keep: '1', drop: '2' } },
      data: { a: '1', b: '2', nested: 'x' },
    });
    const patched = await call(fake, {
      method: 'PATCH',
      path: `${path}/cm`,
      body: { metadata: { labels: { drop: null, add: '3' } }, data: { b: null, c: '3' }, extra: [1, 2] },
    });
    assert.deepEqual(patched.body.metadata.labels, { keep: '1', add: '3' });
    assert.deepEqual(patched.body.data, { a: '1', nested: 'x', c: '3' });
    // Arrays are replaced whole.
    const replaced = await call(fake, { method: 'PATCH', path: `${path}/cm`, body: { extra: [3] } });
    assert.deepEqual(replaced.body.extra, [3]);
    const again = await call(fake, { method: 'PATCH', path: `${path}/cm`, body: { data: { c: '3' } } });
    assert.equal(again.body.metadata.resourceVersion, replaced.body.metadata.resourceVersion);
    const strategic = await call(fake, {
      method: 'PATCH',
      path: `${path}/cm`,
      body: {},
      contentType: 'application/strategic-merge-patch+json',
    });
    assert.equal(strategic.status, 415);
  });

  it('fills in Service defaults as the apiserver does, and keeps allocated values across updates', async () => {
    const fake = cluster();
    const created = await call(fake, {
      method: 'POST',
      path: SERVICES,
      body: {
        metadata: { name: 'lb' },
        spec: {
          type: 'LoadBalancer',
          ports: [
            { name: 'web', port: 80 },
            { name: 'dns', port: 53, protocol: 'UDP' },
          ],
        },
      },
    });
    const spec = created.body.spec;
    assert.match(spec.clusterIP, /^203\.0\.113\.\d+$/);
    assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
    assert.deepEqual(spec.ipFamilies, ['IPv4']);
    assert.equal(spec.ipFamilyPolicy, 'SingleStack');
    assert.equal(spec.allocateLoadBalancerNodePorts, true);
    assert.deepEqual(
      spec.ports.map((p: Json) => [p.port, p.protocol, p.targetPort, p.nodePort >= 30000]),
      [
        [80, 'TCP', 80, true],
        [53, 'UDP', 53, true],
      ],
    );
    // A merge patch replaces the ports: a port keeps the NodePort of the old port of its name, the ClusterIP stays.
    const patched = await call(fake, {
      method: 'PATCH',
      path: `${SERVICES}/lb`,
      body: { spec: { ports: [{ name: 'web', port: 80, targetPort: 8080 }] } },
    });
    assert.equal(patched.body.spec.clusterIP, spec.clusterIP);
    assert.deepEqual(patched.body.spec.ports, [
      { name: 'web', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: spec.ports[0].nodePort },
    ]);
    // Renamed (here: unnamed), it is another port to the apiserver: a new NodePort.
    const renamed = await call(fake, {
      method: 'PUT',
      path: `${SERVICES}/lb`,
      body: { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
    });
    assert.equal(renamed.body.spec.clusterIP, spec.clusterIP);
    assert.notEqual(renamed.body.spec.ports[0].nodePort, spec.ports[0].nodePort);
    // Two ports need names.
    const unnamed = await call(fake, {
      method: 'PATCH',
      path: `${SERVICES}/lb`,
      body: { spec: { ports: [{ port: 80 }, { port: 81 }] } },
    });
    assert.equal(unnamed.status, 422);
    assert.match(unnamed.body.message, /spec\.ports\[0\]\.name: Required value/);
    // No NodePorts when the Service asks for none; an IPv6 Service gets an IPv6 ClusterIP.
    const v6 = await call(fake, {
      method: 'POST',
      path: SERVICES,
      body: {
        metadata: { name: 'v6' },
        spec: {
          type: 'LoadBalancer',
          allocateLoadBalancerNodePorts: false,
          ipFamilies: ['IPv6'],
          ports: [{ port: 80 }],
        },
      },
    });
    assert.match(v6.body.spec.clusterIP, /^2001:db8:ffff::/);
    assert.equal(v6.body.spec.ports[0].nodePort, undefined);
  });

  it('keeps a Service status out of main-resource writes; /status and setStatus write only the status', async () => {
    const fake = cluster();
    const withStatus = { ...service('web'), status: { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } } };
    const created = await call(fake, { method: 'POST', path: SERVICES, body: withStatus });
    assert.deepEqual(created.body.status, { loadBalancer: {} }, 'a create drops the status');
    fake.setStatus(`${SERVICES}/web`, { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } });
    const patched = await call(fake, {
      method: 'PATCH',
      path: `${SERVICES}/web`,
      body: { status: { loadBalancer: { ingress: [] } }, spec: { type: 'LoadBalancer' } },
    });
    assert.deepEqual(patched.body.status, { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } });
    assert.equal(patched.body.spec.type, 'LoadBalancer');
    const viaStatus = await call(fake, {
      method: 'PATCH',
      path: `${SERVICES}/web/status`,
      body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } }, spec: { type: 'ClusterIP' } },
    });
    assert.deepEqual(viaStatus.body.status.loadBalancer.ingress, [{ ip: '192.0.2.2' }]);
    assert.equal(viaStatus.body.spec.type, 'LoadBalancer', 'a status write leaves the spec alone');
    // A group without a status subresource stores status as any other field.
    fake.add('/api/v1/namespaces', { metadata: { name: 'lease' } });
    const plain = fake.add('/apis/example.com/v1/namespaces/lease/things', {
      metadata: { name: 'a' },
      status: { x: 1 },
    });
    assert.deepEqual(plain.status, { x: 1 });
  });

  it('DELETE answers 404 when missing and 409 on a failed uid precondition', async () => {
    const fake = cluster();
    const created = (await call(fake, { method: 'POST', path: SERVICES, body: service('web') })).body;
    const wrongUid = await call(fake, {
      method: 'DELETE',
      path: `${SERVICES}/web`,
      body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'other' } },
    });
    assert.equal(wrongUid.status, 409);
    assert.match(wrongUid.body.message, /the UID in the precondition \(other\) does not match/);
    const deleted = await call(fake, {
      method: 'DELETE',
      path: `${SERVICES}/web`,
      body: { preconditions: { uid: created.metadata.uid } },
    });
    assert.equal(deleted.status, 200);
    assert.equal((await call(fake, { method: 'DELETE', path: `${SERVICES}/web` })).status, 404);
  });

  it('creates CRDs Established, and cluster-scoped objects by their own paths', async () => {
    const fake = new FakeKubeGateway();
    const crds = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
    fake.add(crds, { metadata: { name: 'things.example.com' }, spec: { versions: [] } });
    const crd = await call(fake, { method: 'GET', path: `${crds}/things.example.com` });
    assert.ok(crd.body.status.conditions.some((c: Json) => c.type === 'Established' && c.status === 'True'));
    assert.equal(crd.body.metadata.namespace, undefined);
  });
});

describe('FakeKubeGateway: lists', () => {
  async function seeded(): Promise<FakeKubeGateway> {
    const fake = cluster();
    fake.add('/api/v1/namespaces', { metadata: { name: 'other' } });
    fake.add(SERVICES, service('a', { app: 'x', tier: 'web' }));
    fake.add(SERVICES, service('b', { app: 'x' }));
    fake.add(SERVICES, service('c', { app: 'y', tier: 'db' }));
    fake.add('/api/v1/namespaces/other/services', service('d', { app: 'x' }));
    return fake;
  }

  async function names(fake: FakeKubeGateway, path: string, query: Record<string, string>) {
    const answer = await call(fake, { method: 'GET', path, query });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.items.map((item: Json) => item.metadata.name);
  }

  it('filters by label selector: equality, inequality, existence, absence, sets', async () => {
    const fake = await seeded();
    assert.deepEqual(await names(fake, SERVICES, { labelSelector: 'app=x' }), ['a', 'b']);
    assert.deepEqual(await names(fake, SERVICES, { labelSelector: 'app==x,tier' }), ['a']);
    assert.deepEqual(await names(fake, SERVICES, { labelSelector: '!tier' }), ['b']);
    assert.deepEqual(await names(fake, SERVICES, { labelSelector: 'tier!=web' }), ['b', 'c']);
    assert.deepEqual(await names(fake, SERVICES, { labelSelector: 'tier in (db,web),app notin (y)' }), ['a']);
    const bad = await call(fake, { method: 'GET', path: SERVICES, query: { labelSelector: 'a=(b' } });
    assert.equal(bad.status, 400);
  });

  it('lists across namespaces and filters by field selector', async () => {
    const fake = await seeded();
    assert.deepEqual(await names(fake, '/api/v1/services', { labelSelector: 'app=x' }), ['d', 'a', 'b']);
    assert.deepEqual(await names(fake, '/api/v1/services', { fieldSelector: 'metadata.name=d' }), ['d']);
    assert.deepEqual(
      await names(fake, '/api/v1/services', { fieldSelector: 'metadata.namespace!=other,metadata.name!=a' }),
      ['b', 'c'],
    );
    fake.add('/api/v1/namespaces/tenant/events', {
      metadata: { name: 'e1' },
      involvedObject: { kind: 'Service', name: 'a' },
      type: 'Warning',
    });
    fake.add('/api/v1/namespaces/tenant/events', {
      metadata: { name: 'e2' },
      involvedObject: { kind: 'Service', name: 'b' },
      source: { component: 'metallb-controller' },
    });
    fake.add('/api/v1/namespaces/tenant/events', {
      metadata: { name: 'e3' },
      involvedObject: { kind: 'Service', name: 'b' },
      reportingController: 'metallb-controller',
    });
    assert.deepEqual(
      await names(fake, '/api/v1/namespaces/tenant/events', {
        fieldSelector: 'involvedObject.kind=Service,involvedObject.name=a',
      }),
      ['e1'],
    );
    // `source` is computed as the apiserver does: source.component, else reportingController
    assert.deepEqual(
      await names(fake, '/api/v1/namespaces/tenant/events', { fieldSelector: 'source=metallb-controller' }),
      ['e2', 'e3'],
    );
  });

  it('pages with limit and continue over one snapshot; a continue from before a compaction is 410 Expired', async () => {
    const fake = await seeded();
    const first = await call(fake, { method: 'GET', path: '/api/v1/services', query: { limit: '2' } });
    assert.deepEqual(
      first.body.items.map((i: Json) => i.metadata.name),
      ['d', 'a'],
    );
    const { continue: token, resourceVersion } = first.body.metadata;
    assert.equal(resourceVersion, fake.resourceVersion());
    assert.equal(first.body.metadata.remainingItemCount, 2);
    // Changes after the first page do not show in the next pages.
    fake.remove(`${SERVICES}/c`);
    const second = await call(fake, {
      method: 'GET',
      path: '/api/v1/services',
      query: { limit: '2', continue: token },
    });
    assert.deepEqual(
      second.body.items.map((i: Json) => i.metadata.name),
      ['b', 'c'],
    );
    assert.equal(second.body.metadata.continue, undefined);
    assert.equal(second.body.metadata.resourceVersion, resourceVersion);
    const again = await call(fake, { method: 'GET', path: '/api/v1/services', query: { limit: '1' } });
    fake.compact();
    const expired = await call(fake, {
      method: 'GET',
      path: '/api/v1/services',
      query: { limit: '1', continue: again.body.metadata.continue },
    });
    assert.equal(expired.status, 410);
    assert.equal(expired.body.reason, 'Expired');
  });
});

describe('FakeKubeGateway: watches', () => {
  it('replays events after a resourceVersion, then streams live ones', async () => {
    const fake = cluster();
    fake.add(SERVICES, service('a'));
    const from = fake.resourceVersion();
    fake.add(SERVICES, service('b'));
    fake.replace(`${SERVICES}/a`, service('a', {}, 81));
    const watch = collect(fake, SERVICES, { resourceVersion: from });
    await watch.until(2);
    assert.deepEqual(watch.summary(), ['ADDED b', 'MODIFIED a']);
    fake.remove(`${SERVICES}/b`);
    await watch.until(3);
    assert.deepEqual(watch.summary(), ['ADDED b', 'MODIFIED a', 'DELETED b']);
    const rvs = watch.events().map((e) => Number((e.object as Json).metadata.resourceVersion));
    assert.deepEqual(
      rvs,
      [...rvs].sort((x, y) => x - y),
    );
    assert.equal(rvs.at(-1), Number(fake.resourceVersion()));
    await watch.stop();
    assert.equal(fake.watchCount(), 0);
  });

  it('without a resourceVersion, starts with the current objects as ADDED', async () => {
    const fake = cluster();
    fake.add(SERVICES, service('a'));
    const watch = collect(fake, '/api/v1/services', {});
    await watch.until(1);
    assert.deepEqual(watch.summary(), ['ADDED a']);
    await watch.stop();
  });

  it('filters by selector, turning a label change into ADDED or DELETED for the watch', async () => {
    const fake = cluster();
    const from = fake.resourceVersion();
    const watch = collect(fake, '/api/v1/services', { resourceVersion: from, labelSelector: 'app=x' });
    fake.add(SERVICES, service('a', { app: 'x' }));
    fake.add(SERVICES, service('b', { app: 'y' }));
    fake.replace(`${SERVICES}/a`, service('a', { app: 'y' }));
    fake.replace(`${SERVICES}/b`, service('b', { app: 'x' }));
    fake.replace(`${SERVICES}/b`, service('b', { app: 'x' }, 90));
    await watch.until(4);
    assert.deepEqual(watch.summary(), ['ADDED a', 'DELETED a', 'ADDED b', 'MODIFIED b']);
    await watch.stop();
  });

  it('sends bookmarks on demand to watches that asked, with the current resourceVersion', async () => {
    const fake = cluster();
    const from = fake.resourceVersion();
    const asked = collect(fake, SERVICES, { resourceVersion: from, allowWatchBookmarks: 'true' });
    const plain = collect(fake, SERVICES, { resourceVersion: from });
    await fake.waitFor(() => fake.watchCount(SERVICES) === 2);
    fake.add('/api/v1/namespaces', { metadata: { name: 'elsewhere' } });
    fake.bookmark();
    await asked.until(1);
    assert.equal(asked.events()[0]?.type, 'BOOKMARK');
    assert.equal((asked.events()[0]!.object as Json).metadata.resourceVersion, fake.resourceVersion());
    await settle();
    assert.equal(plain.items.length, 0);
    await asked.stop();
    await plain.stop();
  });

  it('after compact(), a watch from an older resourceVersion gets one ERROR 410 Expired and ends', async () => {
    const fake = cluster();
    const old = fake.resourceVersion();
    fake.add(SERVICES, service('a'));
    fake.compact();
    const watch = collect(fake, SERVICES, { resourceVersion: old });
    await watch.done;
    assert.equal(watch.items.length, 1);
    const event = watch.events()[0];
    assert.equal(event?.type, 'ERROR');
    assert.equal((event!.object as Json).code, 410);
    assert.equal((event!.object as Json).reason, 'Expired');
    // From the current version it is fine.
    const current = collect(fake, SERVICES, { resourceVersion: fake.resourceVersion() });
    fake.add(SERVICES, service('b'));
    await current.until(1);
    assert.deepEqual(current.summary(), ['ADDED b']);
    await current.stop();
  });

  it('endWatches() ends streams cleanly, like the apiserver at timeoutSeconds', async () => {
    const fake = cluster();
    const watch = collect(fake, SERVICES, { resourceVersion: fake.resourceVersion() });
    await fake.waitFor(() => fake.watchCount() === 1);
    fake.endWatches();
    await watch.done;
    assert.deepEqual(watch.items, []);
  });
});

describe('FakeKubeGateway: failures and counts', () => {
  it('injects a status for one object name, a limited number of times', async () => {
    const fake = cluster();
    fake.fail({ method: 'POST', name: 'poison' }, { status: 422, times: 2 });
    for (let i = 0; i < 2; i++) {
      const refused = await call(fake, { method: 'POST', path: SERVICES, body: service('poison') });
      assert.equal(refused.status, 422);
      assert.equal(refused.body.reason, 'Invalid');
      assert.equal(refused.body.details.name, 'poison');
    }
    assert.equal((await call(fake, { method: 'POST', path: SERVICES, body: service('fine') })).status, 201);
    assert.equal((await call(fake, { method: 'POST', path: SERVICES, body: service('poison') })).status, 201);
  });

  it('down(): every request and watch fails K8S_UNAVAILABLE, open watches break, until up()', async () => {
    const fake = cluster();
    const watch = collect(fake, SERVICES, { resourceVersion: fake.resourceVersion() });
    await fake.waitFor(() => fake.watchCount() === 1);
    fake.down();
    await watch.done;
    assert.equal(watch.items.length, 1);
    assert.equal(watch.items[0]?.ok, false);
    const answer = await fake.request({ method: 'GET', path: SERVICES });
    assert.ok(!answer.ok);
    assert.equal(answer.error.code, 'K8S_UNAVAILABLE');
    const refused = collect(fake, SERVICES, {});
    await refused.done;
    assert.ok(refused.items.length === 1 && !refused.items[0]!.ok);
    fake.up();
    assert.equal((await call(fake, { method: 'GET', path: SERVICES })).status, 200);
  });

  it('an injected status on a watch is a failed exchange carrying the status', async () => {
    const fake = cluster();
    fake.fail({ method: 'WATCH' }, { status: 403, times: 1 });
    const watch = collect(fake, SERVICES, {});
    await watch.done;
    const [item] = watch.items;
    assert.ok(item !== undefined && !item.ok);
    assert.equal(item.error.code, 'K8S_UNAVAILABLE');
    assert.equal(item.error.details?.status, 403);
  });

  it('logs requests and counts them by method, path and name', async () => {
    const fake = cluster();
    await fake.request({ method: 'POST', path: SERVICES, body: service('a') });
    await fake.request({ method: 'GET', path: `${SERVICES}/a` });
    await fake.request({ method: 'PATCH', path: `${SERVICES}/a`, body: {} });
    assert.equal(fake.requests.length, 3);
    assert.equal(fake.writes(), 2);
    assert.equal(fake.count({ method: 'GET' }), 1);
    assert.equal(fake.count({ path: SERVICES, name: 'a' }), 3);
    fake.resetCounts();
    assert.equal(fake.requests.length, 0);
  });
});
