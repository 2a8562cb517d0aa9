import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appError, fail, ok, type Result } from '../errors/index.js';
import { until } from '../testing/wait.js';
import { FakeKubeGateway } from './fake-gateway.js';
import { Informer, type InformerChange, type InformerOptions } from './informer.js';

/** A custom resource: the apiserver checks no field of it, so a test can store a malformed one. */
const PORTS = '/apis/example.com/v1/namespaces/tenant/ports';

interface Port {
  readonly name: string;
  readonly port: number;
}

/** The parsed form: the object's name and first port; one without a numeric port is malformed. */
function parsePort(raw: unknown): Result<Port> {
  const object = raw as { metadata?: { name?: unknown }; spec?: { ports?: { port?: unknown }[] } };
  const port = object.spec?.ports?.[0]?.port;
  const name = object.metadata?.name;
  if (typeof port !== 'number' || typeof name !== 'string') {
    return fail(appError('K8S_MALFORMED', `${String(name)}: spec.ports[0].port is not a number`));
  }
  return ok({ name, port });
}

function portObject(name: string, port: unknown = 80, labels: Record<string, string> = { app: 'x' }) {
  return { metadata: { name, labels }, spec: { ports: [{ port }] } };
}

function cluster(): FakeKubeGateway {
  const fake = new FakeKubeGateway();
  fake.add('/api/v1/namespaces', { metadata: { name: 'tenant' } });
  return fake;
}

/** Backoff sleeps the test releases one by one; each records the delay asked for. */
function manualSleeps() {
  const pending: { ms: number; release: () => void }[] = [];
  const asked: number[] = [];
  let changed = () => {};
  return {
    asked,
    sleep: (ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        asked.push(ms);
        pending.push({ ms, release: resolve });
        signal.addEventListener('abort', () => resolve(), { once: true });
        changed();
      }),
    /** Waits for the informer to be in its next backoff, and returns its delay. */
    async next(): Promise<{ ms: number; release: () => void }> {
      while (pending.length === 0) await new Promise<void>((resolve) => (changed = resolve));
      return pending.shift()!;
    },
  };
}

/** An informer on the fake with its batches recorded; `batch(n)` waits for the n-th batch (1-based). */
function harness(fake: FakeKubeGateway, options: Partial<InformerOptions<Port>> = {}) {
  const sleeps = manualSleeps();
  const logs: string[] = [];
  const informer = new Informer<Port>({
    gateway: fake,
    path: PORTS,
    parse: parsePort,
    name: 'ports',
    sleep: sleeps.sleep,
    random: () => 0.999_999,
    now: () => 0,
    logger: { log: (level, msg) => logs.push(`${level} ${msg}`) },
    ...options,
  });
  const batches: InformerChange<Port>[][] = [];
  let changed = () => {};
  informer.subscribe((changes) => {
    batches.push([...changes]);
    changed();
  });
  const summary = (changes: readonly InformerChange<Port>[]) =>
    changes
      .map(
        (c) =>
          `${c.type} ${c.key}${c.object ? ` ${c.object.port}` : ''}${c.previous ? ` was ${c.previous.port}` : ''}${c.problem ? ' malformed' : ''}`,
      )
      .sort();
  return {
    informer,
    sleeps,
    logs,
    batches,
    async batch(n: number): Promise<string[]> {
      while (batches.length < n) await new Promise<void>((resolve) => (changed = resolve));
      return summary(batches[n - 1]!);
    },
    /** Waits until the informer has a watch open on the fake. */
    watching: () => fake.waitFor(() => fake.watchCount() === 1),
  };
}

describe('Informer', () => {
  it('lists, delivers one batch of adds, then watches from the list resourceVersion', async () => {
    const fake = cluster();
    fake.add(PORTS, portObject('a', 80));
    fake.add(PORTS, portObject('b', 81));
    fake.add('/api/v1/namespaces', { metadata: { name: 'other' } });
    fake.add('/apis/example.com/v1/namespaces/other/ports', portObject('elsewhere'));
    const h = harness(fake);
    h.informer.start();
    h.informer.start();
    await h.informer.synced();
    assert.ok(h.informer.isSynced());
    assert.deepEqual(await h.batch(1), ['added tenant/a 80', 'added tenant/b 81']);
    assert.deepEqual([...h.informer.items().keys()].sort(), ['tenant/a', 'tenant/b']);
    assert.deepEqual(h.informer.items().get('tenant/a')?.object, { name: 'a', port: 80 });
    await h.watching();
    const watch = fake.requests.find((req) => req.method === 'WATCH');
    assert.deepEqual(watch?.query, {
      resourceVersion: fake.resourceVersion(),
      allowWatchBookmarks: 'true',
      timeoutSeconds: '300',
    });
    const stats = h.informer.stats();
    assert.equal(stats.synced, true);
    assert.equal(stats.lists, 1);
    assert.equal(stats.watches, 1);
    assert.equal(stats.resourceVersion, fake.resourceVersion());
    await h.informer.stop();
    assert.equal(fake.watchCount(), 0);
  });

  it('an empty collection syncs too, with no batch', async () => {
    const fake = cluster();
    const h = harness(fake);
    h.informer.start();
    await h.informer.synced();
    assert.equal(h.batches.length, 0);
    await h.informer.stop();
  });

  it('delivers live adds, modifications (with the previous object) and deletions, each as its own batch', async () => {
    const fake = cluster();
    fake.add(PORTS, portObject('a', 80));
    const h = harness(fake);
    h.informer.start();
    await h.watching();
    fake.add(PORTS, portObject('b', 90));
    assert.deepEqual(await h.batch(2), ['added tenant/b 90']);
    fake.replace(`${PORTS}/a`, portObject('a', 8080));
    assert.deepEqual(await h.batch(3), ['modified tenant/a 8080 was 80']);
    fake.remove(`${PORTS}/b`);
    assert.deepEqual(await h.batch(4), ['deleted tenant/b was 90']);
    assert.deepEqual([...h.informer.items().keys()], ['tenant/a']);
    assert.equal(h.informer.stats().resourceVersion, fake.resourceVersion());
    assert.equal(h.informer.stats().events, 3);
    await h.informer.stop();
  });

  it('passes its selectors to the list and the watch', async () => {
    const fake = cluster();
    fake.add(PORTS, portObject('a', 80, { app: 'x' }));
    fake.add(PORTS, portObject('b', 81, { app: 'y' }));
    const h = harness(fake, { labelSelector: 'app=x' });
    h.informer.start();
    assert.deepEqual(await h.batch(1), ['added tenant/a 80']);
    await h.watching();
    // b joins the selection, a leaves it: an add and a delete for the informer.
    fake.replace(`${PORTS}/b`, portObject('b', 81, { app: 'x' }));
    assert.deepEqual(await h.batch(2), ['added tenant/b 81']);
    fake.replace(`${PORTS}/a`, portObject('a', 80, { app: 'y' }));
    assert.deepEqual(await h.batch(3), ['deleted tenant/a was 80']);
    await h.informer.stop();
  });

  it('a bookmark moves the resourceVersion on without a batch', async () => {
    const fake = cluster();
    const h = harness(fake);
    h.informer.start();
    await h.watching();
    const before = h.informer.stats().resourceVersion;
    // A write elsewhere moves the global version; only a bookmark tells this watch about it.
    fake.add('/api/v1/namespaces', { metadata: { name: 'elsewhere' } });
    assert.equal(h.informer.stats().resourceVersion, before);
    fake.bookmark();
    await until(() => h.informer.stats().events >= 1, 'the bookmark to reach the watch');
    assert.equal(h.informer.stats().resourceVersion, fake.resourceVersion());
    assert.equal(h.batches.length, 0);
    // The next watch starts from the bookmark's version.
    fake.endWatches();
    await fake.waitFor(() => fake.count({ method: 'WATCH' }) === 2);
    assert.equal(
      fake.requests.filter((r) => r.method === 'WATCH')[1]?.query.resourceVersion,
      fake.resourceVersion(),
    );
    assert.deepEqual(h.sleeps.asked, [], 'a clean close is followed by a new watch at once');
    await h.informer.stop();
  });

  it('after 410 Gone, lists again and delivers the difference, deletions made while away included', async () => {
    const fake = cluster();
    fake.add(PORTS, portObject('a', 80));
    fake.add(PORTS, portObject('b', 81));
    fake.add(PORTS, portObject('c', 82));
    const h = harness(fake);
    h.informer.start();
    await h.watching();
    fake.down();
    const backoff = await h.sleeps.next();
    // While the informer is away: a deleted, b changed, d added, c untouched; then history is compacted.
    fake.remove(`${PORTS}/a`);
    fake.replace(`${PORTS}/b`, portObject('b', 9081));
    fake.add(PORTS, portObject('d', 83));
    fake.compact();
    fake.up();
    backoff.release();
    assert.deepEqual(await h.batch(2), [
      'added tenant/d 83',
      'deleted tenant/a was 80',
      'modified tenant/b 9081 was 81',
    ]);
    assert.deepEqual([...h.informer.items().keys()].sort(), ['tenant/b', 'tenant/c', 'tenant/d']);
    await h.watching();
    const stats = h.informer.stats();
    assert.equal(stats.relists, 1);
    assert.equal(stats.lists, 2);
    assert.equal(stats.reconnects, 1);
    assert.equal(stats.resourceVersion, fake.resourceVersion());
    await h.informer.stop();
  });

  it('backs off while the server is down (doubling, capped), and converges when it is back', async () => {
    const fake = cluster();
    fake.add(PORTS, portObject('a', 80));
    const h = harness(fake, { backoff: { minMs: 100, maxMs: 400 } });
    h.informer.start();
    await h.watching();
    fake.down();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const backoff = await h.sleeps.next();
      delays.push(backoff.ms);
      if (i < 3) backoff.release();
      else {
        // Another writer changed the cluster meanwhile; the watch resumes from the last version and sees it.
        fake.add(PORTS, portObject('b', 81));
        fake.up();
        backoff.release();
      }
    }
    assert.deepEqual(delays, [100, 200, 400, 400]);
    assert.deepEqual(await h.batch(2), ['added tenant/b 81']);
    const stats = h.informer.stats();
    assert.equal(stats.reconnects, 4);
    assert.equal(stats.lists, 1, 'no re-list: the history still had the version');
    assert.match(stats.lastError ?? '', /K8S_UNAVAILABLE|ECONNREFUSED|connection reset/);
    assert.ok(h.logs.some((line) => line.startsWith('warn informer ports: watch failed')));
    await h.informer.stop();
  });

  it('a failed first list is retried with backoff; the informer syncs when the server answers', async () => {
    const fake = cluster();
    fake.add(PORTS, portObject('a', 80));
    fake.down();
    const h = harness(fake);
    h.informer.start();
    const first = await h.sleeps.next();
    assert.equal(first.ms, 250);
    assert.equal(h.informer.isSynced(), false);
    fake.up();
    first.release();
    await h.informer.synced();
    assert.deepEqual(await h.batch(1), ['added tenant/a 80']);
    await h.informer.stop();
  });

  it('an optional informer the server forbids to list counts as synced and empty, and lists once allowed', async () => {
    const fake = cluster();
    fake.add(PORTS, portObject('a', 80));
    fake.fail({ method: 'GET', path: PORTS }, { status: 403, reason: 'Forbidden', message: 'RBAC: no list' });
    const h = harness(fake, { optional: true });
    h.informer.start();
    await h.informer.synced();
    assert.equal(h.informer.stats().forbidden, true);
    assert.equal(h.informer.items().size, 0);
    assert.equal(h.batches.length, 0, 'an empty sync delivers nothing');
    fake.clearFailures();
    (await h.sleeps.next()).release();
    assert.deepEqual(await h.batch(1), ['added tenant/a 80']);
    assert.equal(h.informer.stats().forbidden, undefined);
    await h.informer.stop();
  });

  it('a required informer stays unsynced while the server forbids its list', async () => {
    const fake = cluster();
    fake.fail({ method: 'GET', path: PORTS }, { status: 403, reason: 'Forbidden', message: 'RBAC: no list' });
    const h = harness(fake);
    h.informer.start();
    await h.sleeps.next();
    assert.equal(h.informer.isSynced(), false);
    assert.equal(h.informer.stats().forbidden, undefined);
    await h.informer.stop();
  });

  it('lists in pages, and restarts a list whose continuation expired', async () => {
    let expireOnce = true;
    const paged = new FakeKubeGateway({
      latency: async (req) => {
        // Between the first and the second page, the server compacts: the continuation is gone.
        if (req.query.continue !== undefined && expireOnce) {
          expireOnce = false;
          paged.compact();
        }
      },
    });
    paged.add('/api/v1/namespaces', { metadata: { name: 'tenant' } });
    for (const name of ['a', 'b', 'c', 'd', 'e']) paged.add(PORTS, portObject(name));
    const h = harness(paged, { pageSize: 2 });
    h.informer.start();
    await h.informer.synced();
    assert.equal((await h.batch(1)).length, 5);
    const lists = paged.requests.filter((req) => req.method === 'GET');
    assert.deepEqual(
      lists.map((req) => [req.query.limit, req.query.continue === undefined ? 'first' : 'next']),
      [
        ['2', 'first'],
        ['2', 'next'],
        ['2', 'first'],
        ['2', 'next'],
        ['2', 'next'],
      ],
    );
    assert.equal(h.informer.stats().lists, 1);
    await h.informer.stop();
  });

  it('keeps a malformed object aside with its reason, and takes it back once fixed', async () => {
    const fake = cluster();
    fake.add(PORTS, portObject('good', 80));
    fake.add(PORTS, portObject('bad', 'http'));
    const h = harness(fake);
    h.informer.start();
    assert.deepEqual(await h.batch(1), ['added tenant/bad malformed', 'added tenant/good 80']);
    assert.deepEqual([...h.informer.items().keys()], ['tenant/good']);
    assert.match(h.informer.malformed().get('tenant/bad')?.problem.message ?? '', /port is not a number/);
    assert.ok(h.logs.some((line) => line.includes('does not parse')));
    await h.watching();
    fake.replace(`${PORTS}/bad`, portObject('bad', 443));
    assert.deepEqual(await h.batch(2), ['modified tenant/bad 443']);
    assert.equal(h.informer.malformed().size, 0);
    assert.equal(h.informer.items().get('tenant/bad')?.object.port, 443);
    // Breaking it again: the good version leaves the cache, the change says what it was.
    fake.replace(`${PORTS}/bad`, portObject('bad', null));
    assert.deepEqual(await h.batch(3), ['modified tenant/bad was 443 malformed']);
    assert.equal(h.informer.items().has('tenant/bad'), false);
    await h.informer.stop();
  });

  it('a throwing subscriber is logged; the others and the informer go on', async () => {
    const fake = cluster();
    const h = harness(fake);
    const unsubscribe = h.informer.subscribe(() => {
      throw new Error('boom');
    });
    h.informer.start();
    await h.watching();
    fake.add(PORTS, portObject('a'));
    assert.deepEqual(await h.batch(1), ['added tenant/a 80']);
    assert.ok(h.logs.some((line) => line.startsWith('error informer ports: a subscriber threw')));
    unsubscribe();
    fake.add(PORTS, portObject('b'));
    assert.deepEqual(await h.batch(2), ['added tenant/b 80']);
    assert.equal(h.logs.filter((line) => line.includes('subscriber threw')).length, 1);
    await h.informer.stop();
  });

  it('a watch the server closes at once without an event counts as a failure (no tight loop)', async () => {
    const fake = cluster();
    const h = harness(fake);
    h.informer.start();
    await h.watching();
    fake.endWatches();
    const backoff = await h.sleeps.next();
    assert.equal(backoff.ms, 250);
    assert.match(h.informer.stats().lastError ?? '', /closed at once/);
    await h.informer.stop();
  });

  it('a refused watch (HTTP 500) is a failure: backoff, then a watch from the same version, no list', async () => {
    const fake = cluster();
    const h = harness(fake);
    h.informer.start();
    await h.watching();
    fake.add(PORTS, portObject('a'));
    await h.batch(1);
    const rv = h.informer.stats().resourceVersion;
    fake.fail({ method: 'WATCH' }, { status: 500, times: 1 });
    // The server ends the stream (it had an event: a new watch at once), then refuses the next one.
    fake.endWatches();
    const backoff = await h.sleeps.next();
    assert.equal(backoff.ms, 250);
    assert.match(h.informer.stats().lastError ?? '', /HTTP 500/);
    backoff.release();
    await fake.waitFor(() => fake.count({ method: 'WATCH' }) === 3 && fake.watchCount() === 1);
    const watches = fake.requests.filter((req) => req.method === 'WATCH').slice(1);
    assert.deepEqual(
      watches.map((req) => req.query.resourceVersion),
      [rv, rv],
    );
    assert.equal(fake.count({ method: 'GET' }), 1);
    assert.equal(h.informer.stats().relists, 0);
    await h.informer.stop();
  });

  it('a version that expires as soon as it is listed does not spin: it backs off before listing again', async () => {
    const fake = cluster();
    fake.add(PORTS, portObject('a'));
    fake.fail({ method: 'WATCH' }, { status: 410, times: 2 });
    const h = harness(fake);
    h.informer.start();
    const first = await h.sleeps.next();
    first.release();
    const second = await h.sleeps.next();
    assert.deepEqual([first.ms, second.ms], [250, 500]);
    second.release();
    await h.watching();
    const stats = h.informer.stats();
    assert.equal(stats.relists, 2);
    assert.equal(stats.lists, 3);
    // The lists found nothing new: one batch, from the first.
    assert.equal(h.batches.length, 1);
    await h.informer.stop();
  });

  it('stop() during a real backoff timer ends at once and leaves no timer behind', async () => {
    const fake = cluster();
    fake.down();
    const informer = new Informer<Port>({
      gateway: fake,
      path: PORTS,
      parse: parsePort,
      name: 'ports',
      backoff: { minMs: 3_600_000, maxMs: 3_600_000 },
    });
    informer.start();
    await fake.waitFor(() => fake.requests.length === 1);
    // The informer now waits an hour on a real timer; stop() must clear it, or this file never exits.
    await informer.stop();
    assert.equal(informer.isSynced(), false);
    // Started again, it goes on from where it was.
    fake.up();
    fake.add(PORTS, portObject('a'));
    informer.start();
    await informer.synced();
    assert.deepEqual([...informer.items().keys()], ['tenant/a']);
    await informer.stop();
    assert.equal(fake.watchCount(), 0);
  });
});
