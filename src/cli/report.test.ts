import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import picocolors from 'picocolors';
import type { Deployment, Lease } from '../market/index.js';
import { nextSteps } from '../tenant/endpoints.js';
import type { DeploymentState } from '../tenant/flows.js';
import { deploymentReport, migrationReport, unservedReason } from './report.js';

const plain = picocolors.createColors(false);
const OWNER = 'akash1cad0wjayts6vuw8e9mysaqxujfskpktmhadxlt';
const PROVIDER = 'akash1l8d20gprd8ymn5ghlfk3v3agjgfhfvr6agenvq';
const label = (address: string) => (address === PROVIDER ? 'provider-2' : address);

const deployment = {
  id: { owner: OWNER, dseq: '265' },
  state: 'active',
  hash: '03a7cd358594347647c8485bb5a4694e324bfec4066a21ba0faf2b94aa33b4f8',
} as unknown as Deployment;

function lease(dseq: string, gseq = 1): Lease {
  return {
    id: { owner: OWNER, dseq, gseq, oseq: 1, provider: PROVIDER },
    state: 'active',
    price: { denom: 'uakt', amount: '12.398325617283950618' },
    paid: '0',
    createdHeight: 1,
    closedHeight: null,
    closedReason: null,
  };
}

const withheld: DeploymentState = {
  deployment,
  leases: [
    {
      lease: lease('265'),
      status: {
        ips: {},
        ip_endpoints: {
          myendpoint: {
            state: 'withheld',
            addresses: [],
            reason: 'endpoint "myendpoint" is held by deployment 106 (group 1) of the same owner',
            held_by: { dseq: '106', gseq: 1, oseq: 1 },
          },
        },
      },
    },
  ],
};

const active: DeploymentState = {
  deployment,
  leases: [
    {
      lease: lease('265'),
      status: {
        services: { web: { name: 'web' } },
        ips: { web: [{ Port: 80, ExternalPort: 8080, Protocol: 'TCP', IP: '198.51.100.0' }] },
        ip_endpoints: { myendpoint: { state: 'active', addresses: ['198.51.100.0'] } },
      },
    },
  ],
};

describe('deploymentReport', () => {
  it('shows each IP endpoint with its address and ports', () => {
    const text = deploymentReport(active, label).human(plain);
    assert.equal(
      text,
      'deployment 265  active  owner akash1cad0…hadxlt  version 03a7cd358594…\n' +
        'lease 265/1/1  active  on provider-2  12.3983 uakt/block\n' +
        '  ENDPOINT    STATE   IP            PORTS            NOTE\n' +
        '  myendpoint  active  198.51.100.0  web 8080→80/TCP\n',
    );
  });

  it('explains a withheld endpoint and prints the migration that would resolve it', () => {
    const report = deploymentReport(withheld, label);
    const text = report.human(plain);
    assert.match(text, /myendpoint {2}withheld {2}- .*held by deployment 106/);
    assert.match(
      text,
      /next: akash-ip migrate-endpoints --dseq 265 --provider provider-2 --source-dseq 106 myendpoint\n$/,
    );
    const data = report.data as { next: string[]; leases: { endpoints: object; provider: string }[] };
    assert.deepEqual(data.next, [
      'akash-ip migrate-endpoints --dseq 265 --provider provider-2 --source-dseq 106 myendpoint',
    ]);
    assert.equal(data.leases[0]?.provider, 'provider-2');
  });

  it('names a group other than 1 in the next step', () => {
    const state = { ...withheld, leases: [{ ...withheld.leases[0]!, lease: lease('265', 2) }] };
    assert.deepEqual(nextSteps(state, label), [
      'akash-ip migrate-endpoints --dseq 265 --gseq 2 --provider provider-2 --source-dseq 106 myendpoint',
    ]);
  });

  it('says which pods do not carry the leased IP when the provider reports it (ip_env)', () => {
    const [only] = active.leases;
    assert.ok(only?.status !== undefined);
    const withPods = (ip_env: object): DeploymentState => ({
      deployment,
      leases: [{ ...only, status: { ...only.status, ip_env } as typeof only.status }],
    });
    const current = { current: true, pods: [{ pod: 'web-1', service: 'web', state: 'current' }] };
    assert.equal(
      deploymentReport(withPods(current), label).human(plain),
      deploymentReport(active, label).human(plain),
    );
    const behind = deploymentReport(
      withPods({
        current: false,
        pods: [
          { pod: 'web-1', service: 'web', state: 'missing' },
          { pod: 'web-2', service: 'web', state: 'current' },
          { pod: 'web-3', service: 'web', state: 'stale' },
        ],
      }),
      label,
    );
    assert.match(
      behind.human(plain),
      /\n {2}pods: 2 of 3 do not carry the current leased IPs \(web-1 missing, web-3 stale\); they get them when they restart\n$/,
    );
    assert.equal(
      (behind.data as { leases: { ip_env: { current: boolean } }[] }).leases[0]?.ip_env.current,
      false,
    );
    assert.match(
      deploymentReport(withPods({ current: null, code: 'K8S_UNAVAILABLE', error: 'no answer' }), label).human(
        plain,
      ),
      /pods: the provider cannot tell whether they carry the leased IPs \(K8S_UNAVAILABLE: no answer\)/,
    );
  });

  it('keeps a provider error in the lease instead of failing the report', () => {
    const state: DeploymentState = {
      deployment,
      leases: [{ lease: lease('265'), error: { code: 'UNAVAILABLE', message: 'provider down' } }],
    };
    const report = deploymentReport(state, label);
    assert.match(report.human(plain), /status unavailable: UNAVAILABLE: provider down/);
    const data = report.data as { leases: { error: object; ips: unknown }[] };
    assert.deepEqual(data.leases[0]?.error, { code: 'UNAVAILABLE', message: 'provider down' });
    assert.equal(data.leases[0]?.ips, null);
  });
});

describe('unservedReason: why deploy or update exits 7', () => {
  it('is nothing when every IP endpoint has its address', () => {
    assert.equal(unservedReason(active, label), undefined);
  });

  it('names a withheld endpoint with the migration that resolves it', () => {
    const reason = unservedReason(withheld, label);
    assert.equal(reason?.code, 'ENDPOINT_NOT_LEASED');
    assert.match(
      reason?.message ?? '',
      /^deployment 265 runs without all its IPs: endpoint "myendpoint" of lease 265\/1\/1 is withheld \(.*held by deployment 106.*\): move it with `akash-ip migrate-endpoints --dseq 265 --provider provider-2 --source-dseq 106 myendpoint` \(--allow-pending accepts this with exit 0\)$/,
    );
  });

  it('says a pending endpoint waits for a free address, and an unsettled one to look again', () => {
    const state = (endpoint: object): DeploymentState => ({
      deployment,
      leases: [{ lease: lease('265'), status: { ips: {}, ip_endpoints: { api: endpoint as never } } }],
    });
    const pending = unservedReason(
      state({ state: 'pending', addresses: [], reason: 'no free address for endpoint "api"' }),
      label,
    );
    assert.match(
      pending?.message ?? '',
      /"api" .* is pending \(no free address.*\): it gets an address when provider-2 has one free; watch with `akash-ip lease-status --dseq 265`/,
    );
    const unsettled = unservedReason(state({ state: 'active', addresses: [] }), label);
    assert.match(
      unsettled?.message ?? '',
      /"api" .* had no address when the wait ended: check again with `akash-ip lease-status --dseq 265`/,
    );
  });

  it('is the provider’s error when a lease-status could not be read', () => {
    const state: DeploymentState = {
      deployment,
      leases: [{ lease: lease('265'), error: { code: 'UNAVAILABLE', message: 'provider down' } }],
    };
    assert.deepEqual(unservedReason(state, label), { code: 'UNAVAILABLE', message: 'provider down' });
  });
});

describe('migrationReport', () => {
  const move = {
    endpoint: 'web',
    from: { dseq: '82', gseq: 1, oseq: 1 },
    to: { dseq: '83', gseq: 1, oseq: 1 },
    addresses: ['203.0.113.1'],
  };

  it('calls moved only what moved', () => {
    const text = migrationReport(
      { transferred: ['web', 'db'], moves: [move], unchanged: ['db'] },
      false,
      '83',
      'provider-1',
    ).human(plain);
    assert.match(text, /^moved web to deployment 83 on provider-1\n/);
    assert.match(text, /\nalready in deployment 83: db\nnext: akash-ip lease-status --dseq 83\n$/);
  });

  it('says nothing moved when a migration runs again, though Go’s reply names the endpoint', () => {
    const text = migrationReport(
      { transferred: ['web'], dry_run: false, moves: [], unchanged: ['web'] },
      false,
      '83',
      'provider-1',
    ).human(plain);
    assert.equal(text, 'nothing moved on provider-1\nalready in deployment 83: web\n');
  });

  it('shows what a dry run would move, and trusts `transferred` from a provider without `moves`', () => {
    const dry = migrationReport({ transferred: [], moves: [move], unchanged: [] }, true, '83', 'provider-1');
    assert.match(dry.human(plain), /^dry run: would move web to deployment 83 on provider-1\n/);
    const go = migrationReport({ transferred: ['web'] }, false, '83', 'provider-1');
    assert.match(go.human(plain), /^moved web to deployment 83 on provider-1\n/);
  });
});
