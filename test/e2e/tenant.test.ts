/**
 * The tenant's path through the built CLI against a real devnet (ledger + three provider daemons): the AEP-17
 * migration walk-through, update and close, SDL refusals before anything is sent, and another owner denied.
 * One devnet serves the whole file; each test leaves the state the next one describes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addressOf,
  type DeploymentJson,
  type DevnetJson,
  EXAMPLE_SDL,
  ipSdl,
  ledgerDeployments,
  Sandbox,
} from './harness.js';

describe('tenant CLI on a devnet', () => {
  let box: Sandbox;
  let devnet: DevnetJson;

  before(async () => {
    box = await Sandbox.create();
    devnet = (await box.devnet()).file;
  });
  after(async () => {
    await box.dispose();
  });

  it('walks AEP-17: withheld by name, migrate, close the source, the IP stays', async () => {
    const first = await box.json<DeploymentJson>('deploy', EXAMPLE_SDL, '--provider', 'provider-1');
    const ip = addressOf(first, 'myendpoint');
    assert.match(ip, /^203\.0\.113\./);

    const second = await box.json<DeploymentJson>('deploy', EXAMPLE_SDL, '--provider', 'provider-1');
    const withheld = second.leases[0]?.endpoints.myendpoint;
    assert.equal(withheld?.state, 'withheld');
    assert.equal(withheld?.held_by?.dseq, first.dseq);
    assert.match(withheld?.reason ?? '', new RegExp(`deployment ${first.dseq}\\b`));
    assert.deepEqual(second.next, [
      `akash-ip migrate-endpoints --dseq ${second.dseq} --provider provider-1 --source-dseq ${first.dseq} myendpoint`,
    ]);

    const dry = await box.json<{ transferred: string[]; dry_run: boolean }>(
      'migrate-endpoints',
      '--dseq',
      second.dseq,
      '--source-dseq',
      first.dseq,
      '--dry-run',
      'myendpoint',
    );
    assert.deepEqual(dry.transferred, []);
    assert.equal(dry.dry_run, true);
    const unmoved = await box.json<DeploymentJson>('lease-status', '--dseq', second.dseq);
    assert.equal(unmoved.leases[0]?.endpoints.myendpoint?.state, 'withheld');

    const moved = await box.json<{ transferred: string[] }>(
      'migrate-endpoints',
      '--dseq',
      second.dseq,
      '--provider',
      'provider-1',
      'myendpoint',
    );
    assert.deepEqual(moved.transferred, ['myendpoint']);
    const now = await box.json<DeploymentJson>('lease-status', '--dseq', second.dseq);
    assert.equal(addressOf(now, 'myendpoint'), ip);
    const source = await box.json<DeploymentJson>('lease-status', '--dseq', first.dseq);
    assert.equal(source.leases[0]?.endpoints.myendpoint?.state, 'withheld');

    const closed = await box.run('close', '--dseq', first.dseq);
    assert.equal(closed.code, 0, closed.stderr);
    assert.match(closed.stdout, new RegExp(`deployment ${first.dseq} closed`));
    const kept = await box.json<DeploymentJson>('lease-status', '--dseq', second.dseq);
    assert.equal(addressOf(kept, 'myendpoint'), ip);
    assert.equal(kept.leases[0]?.endpoints.myendpoint?.state, 'active');
  });

  it('keeps the IP across an update, and releases it on close', async () => {
    const sdl = await box.file('update-v1.yaml', ipSdl({ endpoints: ['api'] }));
    const deployed = await box.json<DeploymentJson>('deploy', sdl, '--provider', 'provider-1');
    const ip = addressOf(deployed, 'api');
    assert.notEqual(ip, '');

    const changed = await box.file('update-v2.yaml', ipSdl({ endpoints: ['api'], image: 'nginx:1.28' }));
    const updated = await box.json<DeploymentJson & { hash: string }>(
      'update',
      '--dseq',
      deployed.dseq,
      changed,
    );
    assert.equal(addressOf(updated, 'api'), ip);
    const version = await box.run('sdl', 'version', changed);
    assert.equal(updated.hash, version.stdout.trim());

    const initial = await box.json<{ provider: string; quarantined: string; allocated: string }[]>(
      'provider',
      'pool',
      '--provider',
      'provider-1',
    );
    const closed = await box.run('close', '--dseq', deployed.dseq);
    assert.equal(closed.code, 0, closed.stderr);
    const status = await box.run('lease-status', '--dseq', deployed.dseq, '-o', 'json');
    assert.equal(status.code, 0, status.stderr);
    const lease = (JSON.parse(status.stdout) as DeploymentJson).leases[0];
    assert.equal(lease?.state, 'closed');
    // The provider learns of the close from the ledger's events: wait, bounded, for the address to leave use.
    const deadline = Date.now() + 15_000;
    let pool = initial;
    while (Date.now() < deadline) {
      pool = await box.json('provider', 'pool', '--provider', 'provider-1');
      if (Number(pool[0]?.quarantined) > Number(initial[0]?.quarantined)) break;
    }
    assert.equal(
      Number(pool[0]?.quarantined),
      Number(initial[0]?.quarantined) + 1,
      'the address is released',
    );
  });

  it('refuses unknown, unused and duplicate-port endpoints before creating anything', async () => {
    const owner = devnet.tenant.address;
    const count = (await ledgerDeployments(devnet.ledger.url, owner)).length;
    const cases: [name: string, text: string, code: string][] = [
      ['unknown.yaml', EXAMPLE_TEXT.replace('ip: myendpoint', 'ip: nosuch'), 'SDL_ENDPOINT_UNDECLARED'],
      [
        'unused.yaml',
        EXAMPLE_TEXT.replace('    kind: ip\n', '    kind: ip\n  spare:\n    kind: ip\n'),
        'SDL_ENDPOINT_UNUSED',
      ],
      [
        'duplicate.yaml',
        EXAMPLE_TEXT.replace(
          '            ip: myendpoint\n',
          '            ip: myendpoint\n      - port: 81\n        as: 80\n        to:\n          - global: true\n            ip: myendpoint\n',
        ),
        'SDL_ENDPOINT_PORT_IN_USE',
      ],
    ];
    for (const [name, text, code] of cases) {
      const path = await box.file(name, text);
      const outcome = await box.run('deploy', path);
      assert.equal(outcome.code, 1, `${name}: ${outcome.stderr}`);
      assert.match(outcome.stderr, new RegExp(`^${literal(path)}:\\d+:\\d+: ${code}: `, 'm'), outcome.stderr);
      assert.equal(outcome.stdout, '');
    }
    assert.equal((await ledgerDeployments(devnet.ledger.url, owner)).length, count, 'nothing was created');
  });

  it('denies another owner reads and migrations of the tenant’s deployment', async () => {
    const mine = await box.json<DeploymentJson>('deploy', EXAMPLE_SDL, '--provider', 'provider-2');
    assert.notEqual(addressOf(mine, 'myendpoint'), '');

    const bob = await box.json<{ address: string }>('keys', 'add', 'bob');
    const funded = await box.run('fund', 'bob');
    assert.equal(funded.code, 0, funded.stderr);

    const read = await box.run(
      'lease-status',
      '--dseq',
      mine.dseq,
      '--owner',
      devnet.tenant.address,
      '--from',
      'bob',
    );
    assert.equal(read.code, 5, read.stderr);
    assert.match(read.stderr, /FORBIDDEN/);

    const migrate = await box.run(
      'migrate-endpoints',
      '--dseq',
      mine.dseq,
      '--provider',
      'provider-2',
      '--from',
      'bob',
      'myendpoint',
    );
    assert.equal(migrate.code, 5, migrate.stderr);
    assert.match(migrate.stderr, /FORBIDDEN/);

    // bob's own deployment with the same endpoint name is his, not withheld by the tenant's
    const his = await box.json<DeploymentJson>(
      'deploy',
      EXAMPLE_SDL,
      '--provider',
      'provider-2',
      '--from',
      'bob',
    );
    assert.equal(his.owner, bob.address);
    assert.equal(his.leases[0]?.endpoints.myendpoint?.state, 'active');
    assert.notEqual(addressOf(his, 'myendpoint'), addressOf(mine, 'myendpoint'));
    const still = await box.json<DeploymentJson>('lease-status', '--dseq', mine.dseq);
    assert.equal(addressOf(still, 'myendpoint'), addressOf(mine, 'myendpoint'));
  });
});

const EXAMPLE_TEXT = ipSdl({ endpoints: ['myendpoint'] });

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
