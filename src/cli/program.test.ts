import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import { EXIT } from '../errors/index.js';
import { writeDevnetFile } from '../tenant/home.js';
import { COMMAND_MODULES } from './program.js';
import { runCaptured, sink } from './testing.js';

let home: string;
let requests = 0;
let ledger: Server;
let ledgerUrl: string;

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'akash-ip-cli-'));
  // A "ledger" that only counts: commands refused before contacting anything must leave it at zero.
  ledger = createServer((_request, response) => {
    requests++;
    response.writeHead(500).end();
  });
  await new Promise<void>((done) => ledger.listen(0, '127.0.0.1', done));
  ledgerUrl = `http://127.0.0.1:${(ledger.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((done) => ledger.close(done));
  await rm(home, { recursive: true, force: true });
});

function run(...args: string[]) {
  return runCaptured(['--home', home, ...args]);
}

const BAD_SDL = `version: "2.0"
endpoints:
  myendpoint:
    kind: ip
services:
  web:
    image: nginx
    expose:
      - port: 80
        to:
          - global: true
            ip: nosuch
profiles:
  compute:
    web:
      resources:
        cpu: { units: 0.5 }
        memory: { size: 512Mi }
        storage: { size: 1Gi }
  placement:
    dcloud:
      pricing:
        web: { denom: uakt, amount: 1000 }
deployment:
  web:
    dcloud: { profile: web, count: 1 }
`;

describe('argument errors exit with the usage code', () => {
  const cases: [args: string[], message: RegExp][] = [
    [['deploy'], /missing required argument 'sdl'/],
    [['lease-status'], /required option '--dseq <dseq>' not specified/],
    [['lease-status', '--dseq', 'abc'], /must be a deployment sequence number/],
    [['lease-status', '--dseq', '0'], /must be a deployment sequence number/],
    [['lease-status', '--dseq', '5', '--gseq', '-1'], /must be a positive integer/],
    [['migrate-endpoints', '--dseq', '5'], /missing required argument 'endpoints'/],
    [['bids', '--dseq', '1', '-o', 'xml'], /Allowed choices are table, json, yaml/],
    [['deploy', 'x.yaml', '--provider', 'provider-1', '--pick', 'cheapest'], /cannot be used with option/],
    [['deploy', 'x.yaml', '--bid-timeout', '0'], /must be a number of seconds/],
    [['deploy', 'x.yaml', '--deposit', '1.5'], /must be a positive whole number of uakt/],
    [['devnet', '--block-ms', 'fast'], /must be a whole number of milliseconds/],
    [['leases', '--state', 'gone'], /Allowed choices are active, closed, all/],
    [['no-such-command'], /unknown command 'no-such-command'/],
  ];
  for (const [args, message] of cases) {
    it(`akash-ip ${args.join(' ')}`, async () => {
      const outcome = await run(...args);
      assert.equal(outcome.code, EXIT.usage, outcome.stderr);
      assert.match(outcome.stderr, message);
      assert.equal(outcome.stdout, '');
    });
  }
});

describe('command modules', () => {
  it('each registers exactly the top-level commands its entry names (a run loads only that entry)', async () => {
    const io = { stdout: sink().stream, stderr: sink().stream, stdin: Readable.from([]) };
    for (const module of COMMAND_MODULES) {
      const program = new Command('akash-ip');
      (await module.load())(program, io, { code: 0 });
      assert.deepEqual(
        program.commands.map((command) => command.name()),
        module.commands,
      );
    }
  });

  it('help lists every command', async () => {
    const outcome = await run('--help');
    const listed = [...outcome.stdout.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((match) => match[1]);
    const registered = new Set(COMMAND_MODULES.flatMap((module) => module.commands));
    assert.deepEqual(new Set(listed.filter((name) => name !== 'help')), registered);
  });
});

describe('a usage error is one line, the usage and where the help is', () => {
  it('a misspelt option is named with the nearest flag, before any missing required option', async () => {
    const outcome = await run('lease-status', '--dsq', '3');
    assert.equal(outcome.code, EXIT.usage);
    assert.equal(
      outcome.stderr,
      "error: unknown option '--dsq' (did you mean --dseq?)\n" +
        'usage: akash-ip lease-status --dseq <dseq> [options]\n' +
        'see `akash-ip lease-status --help`\n',
    );
    assert.equal(outcome.stdout, '');
  });

  it('a missing required option or argument prints no help text', async () => {
    for (const args of [['lease-status'], ['sdl', 'validate'], ['provider', 'run'], ['nosuch']]) {
      const outcome = await run(...args);
      assert.equal(outcome.code, EXIT.usage, args.join(' '));
      assert.equal(outcome.stderr.split('\n').length, 4, outcome.stderr);
      assert.match(outcome.stderr, /^error: .*\nusage: akash-ip .*\nsee `akash-ip.* --help`\n$/);
      assert.doesNotMatch(outcome.stderr, /Options:/);
    }
  });

  it('help marks required options', async () => {
    const outcome = await run('lease-status', '--help');
    assert.equal(outcome.code, EXIT.ok);
    assert.match(outcome.stdout, /^Usage: akash-ip lease-status --dseq <dseq> \[options\]$/m);
    assert.match(outcome.stdout, /^ {2}--dseq <dseq> +deployment sequence \(required\)$/m);
    assert.match(outcome.stdout, /^ {2}--gseq <gseq> +only this group$/m);
  });
});

describe('an invalid SDL is refused before anything is sent', () => {
  for (const command of [['deploy'], ['update', '--dseq', '5']]) {
    it(`${command[0]} prints FILE:LINE:COL diagnostics and contacts nothing`, async () => {
      const path = join(home, 'bad.yaml');
      await writeFile(path, BAD_SDL);
      const outcome = await run('--ledger', ledgerUrl, ...command, path);
      assert.equal(outcome.code, EXIT.invalidInput);
      assert.match(
        outcome.stderr,
        new RegExp(`^${path.replaceAll('.', '\\.')}:12:17: SDL_ENDPOINT_UNDECLARED: `, 'm'),
      );
      assert.equal(outcome.stdout, '');
      assert.equal(requests, 0);
    });
  }
});

describe('finding the devnet', () => {
  it('says how to start one when the data folder has none', async () => {
    const outcome = await run('leases');
    assert.equal(outcome.code, EXIT.notFound);
    assert.match(outcome.stderr, /no devnet in .*devnet: start one with `akash-ip devnet/);
  });

  it('says a stopped devnet must be started', async () => {
    const data = join(home, 'stopped');
    await mkdir(data);
    await writeDevnetFile(data, {
      version: 1,
      pid: null,
      ledger: { url: ledgerUrl, adminToken: 'x' },
      blockMs: 1000,
      tenant: { key: 'tenant', address: 'akash1x' },
      providers: [],
      startedAt: 0,
    });
    const outcome = await run('--data', data, 'bids', '--dseq', '1');
    assert.equal(outcome.code, EXIT.unavailable);
    assert.match(
      outcome.stderr,
      /the devnet in .*stopped is stopped: start it with `akash-ip devnet --data /,
    );
  });

  it('reports an unreachable ledger with what to do', async () => {
    assert.equal((await run('keys', 'add', 'tenant')).code, EXIT.ok);
    const outcome = await run('--ledger', 'http://127.0.0.1:9', 'provider', 'pool');
    assert.equal(outcome.code, EXIT.unavailable);
    assert.match(outcome.stderr, /no ledger answers at http:\/\/127\.0\.0\.1:9 .*start the devnet/);
  });

  it('names the keyrings it searched for a missing key', async () => {
    const outcome = await run('--ledger', ledgerUrl, '--from', 'nobody', 'leases');
    assert.equal(outcome.code, EXIT.notFound);
    assert.match(
      outcome.stderr,
      /no key "nobody" in .*keys or .*: create it with `akash-ip keys add nobody`/,
    );
  });
});

describe('keys', () => {
  it('adds, lists and shows keys, never printing a secret', async () => {
    const added = await run('keys', 'add', 'alice', '-o', 'json');
    assert.equal(added.code, EXIT.ok, added.stderr);
    const alice = JSON.parse(added.stdout) as {
      name: string;
      address: string;
      pubkey: string;
      keyring: string;
    };
    assert.equal(alice.name, 'alice');
    assert.match(alice.address, /^akash1[0-9a-z]{38}$/);
    assert.match(alice.pubkey, /^0[23][0-9a-f]{64}$/);
    assert.equal(alice.keyring, 'home');
    assert.deepEqual(Object.keys(alice).sort(), ['address', 'keyring', 'name', 'pubkey']);

    const again = await run('keys', 'add', 'alice');
    assert.equal(again.code, EXIT.conflict);
    assert.match(again.stderr, /KEY_EXISTS: key "alice" already exists/);

    const listed = await run('keys', 'list');
    assert.equal(listed.code, EXIT.ok);
    assert.match(listed.stdout, /^NAME +ADDRESS +KEYRING\n/);
    assert.match(listed.stdout, new RegExp(`^alice +${alice.address} +home$`, 'm'));

    const yaml = await run('keys', 'show', 'alice', '-o', 'yaml');
    assert.match(yaml.stdout, new RegExp(`^address: ${alice.address}$`, 'm'));
    assert.doesNotMatch(yaml.stdout, /private/i);

    const missing = await run('keys', 'show', 'bob');
    assert.equal(missing.code, EXIT.notFound);
    assert.match(missing.stderr, /create it with `akash-ip keys add bob`/);

    const invalid = await run('keys', 'add', 'Bad Name');
    assert.equal(invalid.code, EXIT.invalidInput);
  });
});
