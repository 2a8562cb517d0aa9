/**
 * The tenant's path through the built CLI against a real devnet (ledger + three provider daemons): the AEP-17
 * migration walk-through, update and close, SDL refusals before anything is sent, and another owner denied.
 * One devnet serves the whole file; each test leaves the state the next one describes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { untilValue } from '../../src/testing/wait.js';
import {
  addressOf,
  type DeploymentJson,
  EXAMPLE_SDL,
  ipSdl,
  ledgerDeployments,
  useDevnet,
} from './harness.js';

describe('tenant CLI on a devnet', () => {
  const devnetOf = useDevnet();

  it('walks AEP-17: withheld by name, migrate, close the source, the IP stays', async () => {
    const { box } = devnetOf();
    const first = await box.json<DeploymentJson>('deploy', EXAMPLE_SDL, '--provider', 'provider-1');
    const ip = addressOf(first, 'myendpoint');
    assert.match(ip, /^203\.0\.113\./);

    // a withheld endpoint has no IP: deploy says why and what to do, and exits 7 so a script can tell
    const pending = await box.run('deploy', EXAMPLE_SDL, '--provider', 'provider-1', '-o', 'json');
    assert.equal(pending.code, 7, pending.stderr);
    assert.match(
      pending.stderr,
      /ENDPOINT_NOT_LEASED: .*"myendpoint" .* is withheld .*move it with `akash-ip migrate-endpoints/,
    );
    const second = JSON.parse(pending.stdout) as DeploymentJson;
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

    assert.deepEqual(await box.migrate(second.dseq, 'provider-1', 'myendpoint'), ['myendpoint']);
    // run again: Go's reply names the endpoint again, but nothing moves and the CLI says so
    const again = await box.run(
      'migrate-endpoints',
      '--dseq',
      second.dseq,
      '--source-dseq',
      first.dseq,
      'myendpoint',
    );
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^nothing moved on provider-1\nalready in deployment \d+: myendpoint\n$/);
    const now = await box.json<DeploymentJson>('lease-status', '--dseq', second.dseq);
    assert.equal(addressOf(now, 'myendpoint'), ip);
    const source = await box.json<DeploymentJson>('lease-status', '--dseq', first.dseq);
    assert.equal(source.leases[0]?.endpoints.myendpoint?.state, 'withheld');

    const closed = await box.run('close', '--dseq', first.dseq);
    assert.equal(closed.code, 0, closed.stderr);
    // the source no longer holds the address: close must not claim to release it
    assert.match(closed.stdout, new RegExp(`deployment ${first.dseq} closed; .*it held no IP address`));
    assert.doesNotMatch(closed.stdout, new RegExp(literal(ip)));
    const kept = await box.json<DeploymentJson>('lease-status', '--dseq', second.dseq);
    assert.equal(addressOf(kept, 'myendpoint'), ip);
    assert.equal(kept.leases[0]?.endpoints.myendpoint?.state, 'active');
  });

  it('keeps the IP across an update, and releases it on close', async () => {
    const { box } = devnetOf();
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
    assert.match(
      closed.stdout,
      new RegExp(`releases ${literal(ip)} \\(endpoint "api" of lease ${deployed.dseq}/1/1`),
    );
    const status = await box.run('lease-status', '--dseq', deployed.dseq, '-o', 'json');
    assert.equal(status.code, 0, status.stderr);
    const lease = (JSON.parse(status.stdout) as DeploymentJson).leases[0];
    assert.equal(lease?.state, 'closed');
    // The provider learns of the close from the ledger's events: wait, bounded, for the address to leave use.
    const pool = await untilValue(
      async () => {
        const now = await box.json<typeof initial>('provider', 'pool', '--provider', 'provider-1');
        return Number(now[0]?.quarantined) > Number(initial[0]?.quarantined) ? now : undefined;
      },
      'the provider to quarantine the released address',
      { limitMs: 15_000 },
    );
    assert.equal(
      Number(pool[0]?.quarantined),
      Number(initial[0]?.quarantined) + 1,
      'the address is released',
    );
  });

  it('refuses an update its provider would refuse, or one that gives up an IP without --yes, changing nothing', async () => {
    const { box, devnet } = devnetOf();
    const v1 = await box.file('gate-v1.yaml', ipSdl({ endpoints: ['gate'] }));
    const deployed = await box.json<DeploymentJson>('deploy', v1, '--provider', 'provider-1');
    const ip = addressOf(deployed, 'gate');
    assert.notEqual(ip, '');
    const hashOnLedger = async () => {
      const all = (await ledgerDeployments(devnet.ledger.url, devnet.tenant.address)) as readonly {
        id: { dseq: string };
        hash?: string;
      }[];
      return all.find((deployment) => deployment.id.dseq === deployed.dseq)?.hash;
    };
    const hash = await hashOnLedger();
    const status = await box.json<DeploymentJson>('lease-status', '--dseq', deployed.dseq);

    // a second port on the IP endpoint changes the group spec's endpoints, which an Akash update cannot
    const port = await box.file(
      'gate-port.yaml',
      ipSdl({ endpoints: ['gate'] }).replace(
        '            ip: gate\n',
        '            ip: gate\n      - port: 443\n        as: 443\n        to:\n          - global: true\n            ip: gate\n',
      ),
    );
    const refused = await box.run('update', '--dseq', deployed.dseq, port);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /MANIFEST_MISMATCH: .*Akash does not let an update change/);
    assert.match(
      refused.stderr,
      new RegExp(`Nothing was changed\\..*akash-ip close --dseq ${deployed.dseq}`),
    );
    assert.equal(refused.stdout, '');

    // a renamed endpoint would release the address: shown, and refused without --yes
    const renamed = await box.file('gate-renamed.yaml', ipSdl({ endpoints: ['door'] }));
    const unconfirmed = await box.run('update', '--dseq', deployed.dseq, renamed);
    assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
    assert.match(
      unconfirmed.stderr,
      new RegExp(
        `CONFIRMATION_REQUIRED: .*release ${literal(ip)} \\(endpoint "gate" of lease ${deployed.dseq}/1/1 on provider-1\\).*--yes`,
      ),
    );

    assert.equal(await hashOnLedger(), hash, 'the ledger keeps its version');
    assert.deepEqual(
      await box.json('lease-status', '--dseq', deployed.dseq),
      status,
      'the provider is unchanged',
    );

    const confirmed = await box.run('update', '--dseq', deployed.dseq, renamed, '--yes', '-o', 'json');
    assert.equal(confirmed.code, 0, confirmed.stderr);
    assert.match(confirmed.stderr, new RegExp(`releasing ${literal(ip)} `));
    const after = JSON.parse(confirmed.stdout) as DeploymentJson;
    assert.equal(after.leases[0]?.endpoints.gate, undefined);
    assert.notEqual(addressOf(after, 'door'), '');
    assert.notEqual(addressOf(after, 'door'), ip);
    assert.equal((await box.run('close', '--dseq', deployed.dseq)).code, 0);
  });

  it('refuses an SDL whose manifest the provider would refuse before creating anything', async () => {
    const { box, devnet } = devnetOf();
    const owner = devnet.tenant.address;
    const count = (await ledgerDeployments(devnet.ledger.url, owner)).length;
    // only a schema warning in the SDL engine, but no provider takes external port 70000
    const path = await box.file('as-70000.yaml', EXAMPLE_TEXT.replace('as: 80', 'as: 70000'));
    const outcome = await box.run('deploy', path);
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.match(outcome.stderr, /warning: SDL_SCHEMA: /);
    assert.match(
      outcome.stderr,
      /INVALID_INPUT: a provider would refuse this SDL's manifest, so nothing was created: .*externalPort/,
    );
    assert.equal(outcome.stdout, '');
    assert.equal((await ledgerDeployments(devnet.ledger.url, owner)).length, count, 'nothing was created');
  });

  it('refuses unknown, unused and duplicate-port endpoints before creating anything', async () => {
    const { box, devnet } = devnetOf();
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
    const { box, devnet } = devnetOf();
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

    // taking the tenant's endpoint into bob's own deployment is as forbidden as reading it
    const taken = await box.run(
      'migrate-endpoints',
      '--dseq',
      his.dseq,
      '--source-dseq',
      mine.dseq,
      '--from',
      'bob',
      'myendpoint',
    );
    assert.equal(taken.code, 5, taken.stderr);
    assert.match(taken.stderr, /FORBIDDEN: source deployment \d+ does not belong to akash1/);
    const kept = await box.json<DeploymentJson>('lease-status', '--dseq', mine.dseq);
    assert.equal(addressOf(kept, 'myendpoint'), addressOf(mine, 'myendpoint'));
  });
});

const EXAMPLE_TEXT = ipSdl({ endpoints: ['myendpoint'] });

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
