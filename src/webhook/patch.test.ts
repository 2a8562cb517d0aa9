import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envPatch, INJECTED_ANNOTATION, type Pod, podSchema, pointerToken } from './patch.js';
import { leasedIpVariables } from './variables.js';

const VARS = leasedIpVariables([{ name: 'web', addresses: ['192.0.2.7'] }]);

function pod(spec: unknown, metadata: unknown = { labels: {}, annotations: { a: 'b' } }): Pod {
  return podSchema.parse({ metadata, spec });
}

/** Applies the `add` operations the way the apiserver does, for the cases these tests build. */
function apply(target: unknown, ops: ReturnType<typeof envPatch>): unknown {
  const doc = structuredClone(target) as Record<string, unknown>;
  for (const op of ops) {
    const tokens = op.path
      .split('/')
      .slice(1)
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop()!;
    let node: unknown = doc;
    for (const token of tokens) node = (node as Record<string, unknown>)[token];
    if (Array.isArray(node)) {
      if (last === '-') node.push(op.value);
      else node.splice(Number(last), 0, op.value);
    } else (node as Record<string, unknown>)[last] = op.value;
  }
  return doc;
}

describe('leased-IP variables', () => {
  it('names one variable per endpoint as the engine does, an IPv6 one, and the list', () => {
    assert.deepEqual(
      leasedIpVariables([
        { name: 'web', addresses: ['192.0.2.7'] },
        { name: 'p2p', addresses: ['2001:db8::7'] },
        { name: 'db', addresses: [] },
        { name: 'meow72-memes', addresses: ['198.51.100.1', '2001:db8::1'] },
        { name: 'meow72_memes', addresses: ['198.51.100.2'] },
      ]),
      {
        AKASH_LEASED_IP_MEOW72_MEMES: '198.51.100.1',
        AKASH_LEASED_IP6_MEOW72_MEMES: '2001:db8::1',
        AKASH_LEASED_IP_MEOW72_MEMES_2: '198.51.100.2',
        AKASH_LEASED_IP_P2P: '2001:db8::7',
        AKASH_LEASED_IP6_P2P: '2001:db8::7',
        AKASH_LEASED_IP_WEB: '192.0.2.7',
        AKASH_LEASED_IPS:
          'meow72-memes=198.51.100.1,meow72-memes=2001:db8::1,meow72_memes=198.51.100.2,p2p=2001:db8::7,web=192.0.2.7',
      },
    );
  });

  it('gives nothing while no endpoint has an address', () => {
    assert.deepEqual(leasedIpVariables([{ name: 'web', addresses: [] }]), {});
  });
});

describe('env patch', () => {
  it('adds the env array first when a container has none', () => {
    const target = pod({ containers: [{ name: 'app', image: 'x' }] });
    const ops = envPatch(target, VARS);
    assert.deepEqual(ops[0], {
      op: 'add',
      path: '/spec/containers/0/env',
      value: [
        { name: 'AKASH_LEASED_IP_WEB', value: '192.0.2.7' },
        { name: 'AKASH_LEASED_IPS', value: 'web=192.0.2.7' },
      ],
    });
    assert.equal(ops.length, 2);
  });

  it("puts the variables before the container's own, so these can refer to them", () => {
    const target = pod({
      containers: [{ name: 'app', env: [{ name: 'ADVERTISE', value: '$(AKASH_LEASED_IP_WEB):26656' }] }],
    });
    const patched = apply(target, envPatch(target, VARS)) as Pod;
    assert.deepEqual(
      patched.spec.containers[0]?.env?.map((e) => e.name),
      ['AKASH_LEASED_IP_WEB', 'AKASH_LEASED_IPS', 'ADVERTISE'],
    );
  });

  it('keeps a variable the container defines itself (no operation for it), adds the rest', () => {
    const target = pod({
      containers: [{ name: 'app', env: [{ name: 'AKASH_LEASED_IP_WEB', value: 'mine' }] }],
    });
    const ops = envPatch(target, VARS);
    assert.deepEqual(
      ops.filter((op) => op.path.startsWith('/spec')),
      [
        {
          op: 'add',
          path: '/spec/containers/0/env/0',
          value: { name: 'AKASH_LEASED_IPS', value: 'web=192.0.2.7' },
        },
      ],
    );
    const patched = apply(target, ops) as {
      spec: { containers: { env: { name: string; value: string }[] }[] };
    };
    assert.equal(
      patched.spec.containers[0]?.env.find((e) => e.name === 'AKASH_LEASED_IP_WEB')?.value,
      'mine',
    );
  });

  it('is empty when every container defines every variable (nor is the pod annotated)', () => {
    const target = pod({
      containers: [
        {
          name: 'app',
          env: [
            { name: 'AKASH_LEASED_IP_WEB', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'AKASH_LEASED_IPS', value: '' },
          ],
        },
      ],
    });
    assert.deepEqual(envPatch(target, VARS), []);
  });

  it('patches every container and init container, each by its own index', () => {
    const target = pod({
      initContainers: [{ name: 'init' }],
      containers: [
        { name: 'a', env: [] },
        { name: 'b', env: [{ name: 'AKASH_LEASED_IPS', value: 'own' }] },
        { name: 'c' },
      ],
    });
    const ops = envPatch(target, VARS);
    assert.deepEqual(
      ops.map((op) => op.path),
      [
        '/spec/initContainers/0/env',
        '/spec/containers/0/env/0',
        '/spec/containers/0/env/1',
        '/spec/containers/1/env/0',
        '/spec/containers/2/env',
        `/metadata/annotations/${pointerToken(INJECTED_ANNOTATION)}`,
      ],
    );
    const patched = apply(target, ops) as Pod;
    for (const container of [...(patched.spec.initContainers ?? []), ...patched.spec.containers]) {
      assert.ok(container.env?.some((e) => e.name === 'AKASH_LEASED_IP_WEB'));
      assert.ok(container.env?.some((e) => e.name === 'AKASH_LEASED_IPS'));
    }
  });

  it('escapes / and ~ in the annotation path (RFC 6901) and adds the annotations map when missing', () => {
    assert.equal(pointerToken('a/b~c'), 'a~1b~0c');
    assert.equal(
      `/metadata/annotations/${pointerToken(INJECTED_ANNOTATION)}`,
      '/metadata/annotations/akash-ip.akash.network~1leased-ips',
    );
    const annotated = pod({ containers: [{ name: 'app' }] });
    const patched = apply(annotated, envPatch(annotated, VARS)) as {
      metadata: { annotations: Record<string, string> };
    };
    assert.deepEqual(patched.metadata.annotations, { a: 'b', [INJECTED_ANNOTATION]: 'web=192.0.2.7' });
    const bare = pod({ containers: [{ name: 'app' }] }, { labels: {} });
    assert.deepEqual(envPatch(bare, VARS).at(-1), {
      op: 'add',
      path: '/metadata/annotations',
      value: { [INJECTED_ANNOTATION]: 'web=192.0.2.7' },
    });
  });
});
