/**
 * `akash-ip operator` leasing IPv6-only and dual-stack addresses (issue 13) on the real kube-apiserver (its
 * service range is dual-stack) and MetalLB controller. The Go provider is unchanged: its objects name no
 * family, so the operator reads each order's placement attributes from the chain (`--akash-rest`, here the
 * devnet ledger's Akash-shaped route on 127.0.0.1), and the objects are written as Go's `DeclareIP` writes
 * them (test/k8s/go-provider.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { leaseNamespace } from '../../src/k8s/index.js';
import { IP_LEASE_ATTRIBUTE, type LeaseId } from '../../src/lease/index.js';
import { Ledger, type LedgerServer, serveLedger } from '../../src/market/index.js';
import { groupSpec, hashOf, IP_LEASE, testAccount } from '../../src/market/testing.js';
import type { RunningOperator } from '../../src/operator/index.js';
import { metallbPool, PROVIDER } from '../../src/operator/testing.js';
import type { Attribute } from '../../src/sdl/index.js';
import { eventually } from './cluster.js';
import { type GoDeclaration, GoProvider } from './go-provider.js';
import { type OperatorCluster, operatorCluster } from './operator-cluster.js';

const tenant = testAccount(71);
const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;
const tls = { endpoint: 'web', service: 'web', port: 8443, externalPort: 443 } as const;
const DUAL: Attribute = { key: IP_LEASE_ATTRIBUTE.dualStack, value: 'true' };
const V6_ONLY: Attribute = { key: IP_LEASE_ATTRIBUTE.ipv6Only, value: 'true' };
/** Two IPv4 and sixteen IPv6 addresses, in one pool: MetalLB takes a dual Service's two from one pool. */
const POOL = metallbPool('both', ['198.51.100.32/31', '2001:db8:2::/124']);

let env: OperatorCluster;
let chain: LedgerServer;
let ledger: Ledger;
let running: RunningOperator | undefined;
let go: GoProvider;

/** A deployment on the devnet chain whose one group requires `attributes`; its lease with our provider. */
function order(attributes: readonly Attribute[]): LeaseId {
  const created = ledger.createDeployment({
    owner: tenant.address,
    groups: [groupSpec({ attributes: [IP_LEASE, ...attributes], units: [{ ips: [1] }] })],
    hash: hashOf(1),
    deposit: { denom: 'uakt', amount: '5000000' },
  });
  if (!created.ok) assert.fail(created.error.message);
  return {
    owner: tenant.address,
    dseq: created.value.deployment.id.dseq,
    gseq: 1,
    oseq: 1,
    provider: PROVIDER,
  };
}

async function deploy(lease: LeaseId, ...ports: GoDeclaration[]): Promise<void> {
  await go.createLeaseNamespace(lease);
  for (const port of ports) assert.equal(await go.declareIP(lease, port), 'created');
}

interface StatusEntry {
  readonly Port: number;
  readonly ExternalPort: number;
  readonly ServiceName: string;
  readonly IP: string;
  readonly Protocol: string;
}

/** `/ip-lease-status` once it lists `entries` entries (MetalLB confirmed every address). */
async function confirmed(lease: LeaseId, entries: number): Promise<StatusEntry[]> {
  const operator = running!;
  return eventually(`${entries} addresses of ${lease.dseq} confirmed`, async () => {
    const answer = await fetch(`${operator.url}/ip-lease-status/${lease.owner}/${lease.dseq}/1/1`);
    const list = answer.status === 200 ? ((await answer.json()) as StatusEntry[]) : [];
    return list.length === entries ? list : undefined;
  });
}

interface ServiceShape {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { ipFamilies?: string[]; ipFamilyPolicy?: string };
  status?: { loadBalancer?: { ingress?: { ip: string }[] } };
}

async function services(lease: LeaseId): Promise<ServiceShape[]> {
  const list = (await env.call('GET', `/api/v1/namespaces/${leaseNamespace(lease)}/services`)) as {
    items: ServiceShape[];
  };
  return list.items;
}

async function policies(lease: LeaseId): Promise<{ metadata: { name: string }; spec: unknown }[]> {
  const path = `/apis/networking.k8s.io/v1/namespaces/${leaseNamespace(lease)}/networkpolicies`;
  return ((await env.call('GET', path)) as { items: { metadata: { name: string }; spec: unknown }[] }).items;
}

async function portState(lease: LeaseId): Promise<{ state: string; reason?: string }[] | undefined> {
  const state = (await (await fetch(`${running!.url}/state`)).json()) as Record<string, unknown>;
  const { owner, dseq, gseq, oseq, provider } = lease;
  return state[`${owner}/${dseq}/${gseq}/${oseq}/${provider}`] as
    | { state: string; reason?: string }[]
    | undefined;
}

describe('akash-ip operator: IPv6 and dual-stack leases on the real cluster', () => {
  before(async () => {
    env = await operatorCluster();
    await env.call(
      'POST',
      `/apis/metallb.io/v1beta1/namespaces/${env.cluster.metallbNamespace}/ipaddresspools`,
      { ...POOL, metadata: { ...POOL.metadata, namespace: env.cluster.metallbNamespace } },
    );
    const opened = Ledger.open({ path: ':memory:' });
    if (!opened.ok) assert.fail(opened.error.message);
    ledger = opened.value;
    const funded = ledger.fundAccount({
      address: tenant.address,
      amount: { denom: 'uakt', amount: '100000000' },
      pubkey: tenant.pubkey,
    });
    if (!funded.ok) assert.fail(funded.error.message);
    chain = await serveLedger(ledger, { auth: 'none' });
    go = new GoProvider(env.gateway);
  });

  after(async () => {
    await running?.stop();
    await chain?.close();
    await env?.stop();
  });

  it('an IPv6-only and a dual lease: MetalLB confirms every address, /ip-lease-status lists both families, ::/0 admitted', async () => {
    running = await env.start({ metalLbPool: ['both'], akashRest: chain.url });
    const six = order([V6_ONLY]);
    const dual = order([DUAL]);
    // One tenant's endpoint names share one name space (Go's object names): each lease has its own.
    await deploy(six, { ...web, endpoint: 'six' });
    await deploy(dual, web, tls);

    const sixStatus = await confirmed(six, 1);
    assert.match(sixStatus[0]?.IP ?? '', /^2001:db8:2::/);
    assert.deepEqual(
      { ...sixStatus[0], IP: undefined },
      { Port: 8080, ExternalPort: 80, ServiceName: 'web', IP: undefined, Protocol: 'TCP' },
    );
    const [sixService] = await services(six);
    assert.equal(sixService?.spec.ipFamilyPolicy, 'SingleStack');
    assert.deepEqual(sixService?.spec.ipFamilies, ['IPv6']);

    const dualStatus = await confirmed(dual, 4);
    const v4 = dualStatus[0]?.IP ?? '';
    const v6 = dualStatus[1]?.IP ?? '';
    assert.match(v4, /^198\.51\.100\.3[23]$/);
    assert.match(v6, /^2001:db8:2::/);
    // One entry per port per family, IPv4 first, in the order of the Services' names.
    assert.deepEqual(
      dualStatus.map((entry) => [entry.ExternalPort, entry.IP]),
      [
        [443, v4],
        [443, v6],
        [80, v4],
        [80, v6],
      ],
    );
    for (const service of await services(dual)) {
      assert.equal(service.spec.ipFamilyPolicy, 'RequireDualStack');
      assert.deepEqual(service.spec.ipFamilies, ['IPv4', 'IPv6']);
      assert.equal(service.metadata.annotations?.['metallb.io/loadBalancerIPs'], `${v4},${v6}`);
      assert.deepEqual(
        (service.status?.loadBalancer?.ingress ?? []).map((entry) => entry.ip).sort(),
        [v4, v6].sort(),
        `MetalLB confirms both addresses of ${service.metadata.name}`,
      );
    }
    const [policy] = await policies(dual);
    assert.equal(policy?.metadata.name, 'akash-ip-web-ipv6');
    assert.deepEqual((policy?.spec as { ingress?: unknown[] } | undefined)?.ingress, [
      {
        from: [{ ipBlock: { cidr: '::/0' } }],
        ports: [
          { port: 8080, protocol: 'TCP' },
          { port: 8443, protocol: 'TCP' },
        ],
      },
    ]);
    assert.equal((await policies(six)).length, 1);
  });

  it('a restart writes nothing and keeps every address', async () => {
    const leases = ledger.listDeployments({ owner: tenant.address });
    if (!leases.ok) assert.fail(leases.error.message);
    const [six, dual] = leases.value.map((deployment) => ({
      owner: tenant.address,
      dseq: deployment.id.dseq,
      gseq: 1,
      oseq: 1,
      provider: PROVIDER,
    }));
    const before = [await confirmed(six!, 1), await confirmed(dual!, 4)];
    await running?.stop();
    running = await env.start({ metalLbPool: ['both'], akashRest: chain.url });
    assert.deepEqual([await confirmed(six!, 1), await confirmed(dual!, 4)], before);
    await running.operator.idle();
    assert.deepEqual(running.operator.writeStats(), { created: 0, updated: 0, deleted: 0, failed: 0 });
  });

  it('IPv4 exhausted: a dual lease waits with the reason while an IPv6-only one is still served', async () => {
    const plain = order([]);
    await deploy(plain, { ...web, endpoint: 'plain' });
    const [status] = await confirmed(plain, 1);
    assert.match(status?.IP ?? '', /^198\.51\.100\.3[23]$/);
    const starved = order([DUAL]);
    await deploy(starved, { ...web, endpoint: 'starved' });
    // First it waits for its order to be read from the chain, then for an IPv4 address.
    const pending = await eventually('the dual lease reported pending for want of IPv4', async () => {
      const [port] = (await portState(starved)) ?? [];
      return port?.state === 'pending' && !/address family/.test(port.reason ?? '') ? port : undefined;
    });
    assert.match(pending.reason ?? '', /IPv4/);
    assert.deepEqual(await services(starved), []);
    const six = order([V6_ONLY]);
    await deploy(six, { ...web, endpoint: 'six-more' });
    assert.match((await confirmed(six, 1))[0]?.IP ?? '', /^2001:db8:2::/);
    const families = (await (await fetch(`${running!.url}/usage/families`)).json()) as Record<
      string,
      { Available: number; InUse: number }
    >;
    assert.deepEqual(families.IPv4, { Available: 2, InUse: 2 });
    assert.equal(families.IPv6?.InUse, 3);
    // Go's bid gate reads the default family, IPv4 here: nothing left.
    assert.equal(await (await fetch(`${running!.url}/usage`)).text(), '{"Available":2,"InUse":2}\n');
  });

  it('close: the Go provider purges the objects, the Services and the IPv6 policy go', async () => {
    const listed = ledger.listDeployments({ owner: tenant.address });
    if (!listed.ok) assert.fail(listed.error.message);
    const dual: LeaseId = {
      owner: tenant.address,
      dseq: listed.value[1]!.id.dseq,
      gseq: 1,
      oseq: 1,
      provider: PROVIDER,
    };
    assert.equal((await services(dual)).length, 2);
    await go.purgeDeclaredIPs(dual);
    await eventually('the Services and the policy deleted', async () =>
      (await services(dual)).length === 0 && (await policies(dual)).length === 0 ? true : undefined,
    );
    assert.equal((await fetch(`${running!.url}/ip-lease-status/${dual.owner}/${dual.dseq}/1/1`)).status, 204);
  });
});
