/**
 * Dual-stack leases through the built CLI on a real devnet: an order that requires `ip-lease-ipv6` is bid on
 * only by provider-1 (its pool holds both families), gets an IPv4 and an IPv6 address, and walks AEP-17 with
 * both: withheld by name, migrated, the source closed, both addresses kept. An `ip-lease-ipv6-only` order gets
 * one IPv6 address.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { type DeploymentJson, ipSdl, useDevnet } from './harness.js';

const DUAL_SDL = resolve('examples/ip-lease-dual.yaml');

interface DualEndpoint {
  readonly state: string;
  readonly family?: string;
  readonly addresses: readonly string[];
  readonly ipv4?: string;
  readonly ipv6?: string;
}

function endpointOf(deployment: DeploymentJson, name: string): DualEndpoint | undefined {
  return deployment.leases[0]?.endpoints[name] as DualEndpoint | undefined;
}

describe('dual-stack leases on a devnet', () => {
  const devnetOf = useDevnet();

  it('walks AEP-17 with a dual endpoint: both addresses are withheld, migrated and kept together', async () => {
    const { box, bidders } = devnetOf();
    const first = await box.json<DeploymentJson>('deploy', DUAL_SDL, '--pick', 'cheapest');
    assert.equal(first.leases[0]?.provider, 'provider-1');
    // provider-2 is cheaper but offers no IPv6: Akash's attribute matching leaves it out
    assert.deepEqual(await bidders(first.dseq), ['provider-1']);
    const held = endpointOf(first, 'myendpoint');
    assert.equal(held?.family, 'dual');
    assert.match(held?.ipv4 ?? '', /^203\.0\.113\.\d+$/);
    assert.match(held?.ipv6 ?? '', /^2001:db8:1::\d+$/);
    assert.deepEqual(held?.addresses, [held?.ipv4, held?.ipv6]);

    const pending = await box.run('deploy', DUAL_SDL, '--provider', 'provider-1', '-o', 'json');
    assert.equal(pending.code, 7, pending.stderr);
    const second = JSON.parse(pending.stdout) as DeploymentJson;
    assert.equal(endpointOf(second, 'myendpoint')?.state, 'withheld');

    assert.deepEqual(await box.migrate(second.dseq, 'provider-1', 'myendpoint'), ['myendpoint']);
    const closed = await box.run('close', '--dseq', first.dseq);
    assert.equal(closed.code, 0, closed.stderr);
    const kept = await box.json<DeploymentJson>('lease-status', '--dseq', second.dseq);
    assert.deepEqual(endpointOf(kept, 'myendpoint'), held);
  });

  it('gives an IPv6-only order one IPv6 address', async () => {
    const { box } = devnetOf();
    const sdl = await box.file(
      'v6-only.yaml',
      ipSdl({ endpoints: ['api'] }).replace('ip-lease: true', 'ip-lease-ipv6-only: true'),
    );
    const deployed = await box.json<DeploymentJson>('deploy', sdl, '--pick', 'cheapest');
    assert.equal(deployed.leases[0]?.provider, 'provider-1');
    const api = endpointOf(deployed, 'api');
    assert.equal(api?.family, 'v6');
    assert.equal(api?.ipv4, undefined);
    assert.match(api?.addresses[0] ?? '', /^2001:db8:1::\d+$/);
    assert.equal(api?.addresses.length, 1);
  });
});
