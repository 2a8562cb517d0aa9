/**
 * End-to-end harness: runs the BUILT CLI (`dist/src/cli/akash-ip.cjs`, built by `npm test` before the tests) as
 * child processes on 127.0.0.1, each test file in its own temporary home folder. Every wait is bounded and
 * every process a test starts is stopped in its `after`, the provider daemons included.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';

/** The built CLI. */
export const CLI = resolve('dist/src/cli/akash-ip.cjs');
/** The example SDL `npm start` deploys. */
export const EXAMPLE_SDL = resolve('examples/ip-lease.yaml');

/** Longest a single CLI call may take before the test fails. */
const CALL_TIMEOUT_MS = 60_000;

/** What a finished CLI call printed. */
export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SandboxOptions {
  /** Use a temporary user home (`$HOME`) instead of AKASH_IP_HOME. */
  readonly userHome?: boolean;
}

/**
 * One test file's sandbox: a temporary AKASH_IP_HOME (keys in `keys/`, devnet in `devnet/`); or, with
 * `userHome`, a temporary user home folder (`$HOME`) and no AKASH_IP_HOME, so the CLI uses `~/.akash-ip`.
 */
export class Sandbox {
  readonly home: string;
  readonly #userHome: boolean;
  readonly #children: ChildProcess[] = [];

  private constructor(home: string, userHome: boolean) {
    this.home = home;
    this.#userHome = userHome;
  }

  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first (npm test does)`);
    return new Sandbox(await mkdtemp(join(tmpdir(), 'akash-ip-e2e-')), options.userHome === true);
  }

  /** The CLI's home folder. */
  get akashHome(): string {
    return this.#userHome ? join(this.home, '.akash-ip') : this.home;
  }

  /** The devnet data folder. */
  get data(): string {
    return join(this.akashHome, 'devnet');
  }

  env(): NodeJS.ProcessEnv {
    const { AKASH_IP_HOME: _ignored, ...inherited } = process.env;
    const home = this.#userHome ? { HOME: this.home } : { AKASH_IP_HOME: this.home };
    return { ...inherited, ...home, NO_COLOR: '1', FORCE_COLOR: '' };
  }

  /** Runs `akash-ip ARGS…` to completion in the sandbox (never the repository: no devnet of its own is found). */
  run(...args: string[]): Promise<Outcome> {
    return this.runIn(this.home, ...args);
  }

  /** Runs `akash-ip ARGS…` to completion in the folder `cwd`. */
  runIn(cwd: string, ...args: string[]): Promise<Outcome> {
    return new Promise((done) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { cwd, env: this.env(), timeout: CALL_TIMEOUT_MS, maxBuffer: 16 << 20 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          done({ code, stdout, stderr });
        },
      );
    });
  }

  /** Runs a command with `-o json` that must succeed, and parses its output. */
  async json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const outcome = await this.run(...args, '-o', 'json');
    assert.equal(outcome.code, 0, `akash-ip ${args.join(' ')} failed:\n${outcome.stderr}`);
    return JSON.parse(outcome.stdout) as T;
  }

  /** `migrate-endpoints` of `endpoints` into deployment `dseq` on `provider`; resolves with the endpoints moved. */
  async migrate(dseq: string, provider: string, ...endpoints: string[]): Promise<readonly string[]> {
    const moved = await this.json<{ transferred: string[] }>(
      'migrate-endpoints',
      '--dseq',
      dseq,
      '--provider',
      provider,
      ...endpoints,
    );
    return moved.transferred;
  }

  /** Writes a file in the sandbox and returns its path. */
  async file(name: string, text: string): Promise<string> {
    const path = join(this.home, name);
    await writeFile(path, text);
    return path;
  }

  /**
   * Starts a long-running command (`devnet`, `start`) and resolves once its stdout satisfies `ready`.
   * Fails the test if the process exits first or `timeoutMs` passes.
   */
  async spawn(
    args: readonly string[],
    ready: (stdout: string) => boolean,
    timeoutMs = 45_000,
  ): Promise<Running> {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: this.home,
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#children.push(child);
    const running = new Running(child);
    await running.until(ready, timeoutMs);
    return running;
  }

  /** Starts the devnet with a fast block clock and returns its `devnet.json`. */
  async devnet(...extra: string[]): Promise<{ running: Running; file: DevnetJson }> {
    const running = await this.spawn(['devnet', '--block-ms', '200', '-o', 'json', ...extra], parsesAsJson);
    return { running, file: await this.devnetFile() };
  }

  async devnetFile(): Promise<DevnetJson> {
    return JSON.parse(await readFile(join(this.data, 'devnet.json'), 'utf8')) as DevnetJson;
  }

  /** Stops everything this sandbox started (the devnet's providers too) and removes the folder. */
  async dispose(): Promise<void> {
    for (const child of this.#children) await stop(child);
    // A devnet that could not stop its providers leaves their pids behind: end them too.
    if (existsSync(join(this.data, 'devnet.json'))) {
      const file = await this.devnetFile();
      for (const provider of file.providers) {
        if (provider.pid > 0) {
          try {
            process.kill(provider.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    }
    await rm(this.home, { recursive: true, force: true });
  }
}

/**
 * Registers the enclosing block's `before` and `after`: one sandbox for its tests, disposed of at its end with
 * every process started in it. Returns the sandbox's getter (set once `before` has run).
 */
export function useSandbox(options: SandboxOptions = {}): () => Sandbox {
  let box: Sandbox | undefined;
  before(async () => {
    box = await Sandbox.create(options);
  });
  after(async () => {
    await box?.dispose();
  });
  return () => {
    assert.ok(box !== undefined, 'the sandbox was not made');
    return box;
  };
}

/** Registers the enclosing block's `before` and `after`: an empty temporary folder, removed at its end. Returns its getter. */
export function useFolder(prefix: string): () => string {
  let folder: string | undefined;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  });
  return () => {
    assert.ok(folder !== undefined, 'the folder was not made');
    return folder;
  };
}

/** A sandbox with its devnet running. */
export interface DevnetSandbox {
  readonly box: Sandbox;
  /** The `devnet` process: its stdout is the devnet's JSON summary. */
  readonly running: Running;
  readonly devnet: DevnetJson;
  /** The devnet names of the providers that bid on deployment `dseq`, sorted. */
  bidders(dseq: string): Promise<(string | undefined)[]>;
}

/** {@link useSandbox} with a devnet started in the sandbox for all of the block's tests. */
export function useDevnet(options: SandboxOptions = {}): () => DevnetSandbox {
  const boxOf = useSandbox(options);
  let started: DevnetSandbox | undefined;
  before(async () => {
    const box = boxOf();
    const { running, file } = await box.devnet();
    const names = new Map(file.providers.map((provider) => [provider.address, provider.name]));
    started = {
      box,
      running,
      devnet: file,
      async bidders(dseq) {
        const bids = await box.json<{ readonly id: { readonly provider: string } }[]>('bids', '--dseq', dseq);
        return bids.map((bid) => names.get(bid.id.provider)).sort();
      },
    };
  });
  return () => {
    assert.ok(started !== undefined, 'the devnet did not start');
    return started;
  };
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Ends a child: SIGTERM, then SIGKILL if it lingers. Resolves with its exit code. */
async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** A long-running CLI process and what it has printed so far. */
export class Running {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly #exited: Promise<number | null>;

  constructor(child: ChildProcess) {
    this.child = child;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.#exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  /** Resolves once `ready(stdout)` holds; rejects if the process exits first or time runs out. */
  until(ready: (stdout: string) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((done, reject) => {
      const check = () => {
        if (ready(this.stdout)) {
          cleanup();
          done();
        }
      };
      const exited = () => {
        cleanup();
        reject(new Error(`the process exited before it was ready:\n${this.stdout}\n${this.stderr}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`not ready within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.child.stdout?.off('data', check);
        this.child.off('exit', exited);
      };
      this.child.stdout?.on('data', check);
      this.child.once('exit', exited);
      check();
    });
  }

  /** Sends `signal` and resolves with the exit code. */
  stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    return stop(this.child, signal).then(() => this.#exited);
  }
}

/** `devnet.json`, as far as the tests read it. */
export interface DevnetJson {
  readonly pid: number | null;
  readonly ledger: { readonly url: string };
  readonly tenant: { readonly key: string; readonly address: string };
  readonly providers: readonly {
    readonly name: string;
    readonly address: string;
    readonly url: string;
    readonly pid: number;
  }[];
}

/** `deploy`/`update`/`lease-status -o json`, as far as the tests read it. */
export interface DeploymentJson {
  readonly dseq: string;
  readonly owner: string;
  readonly state: string;
  readonly next?: readonly string[];
  readonly leases: readonly {
    readonly id: {
      readonly dseq: string;
      readonly gseq: number;
      readonly oseq: number;
      readonly provider: string;
    };
    readonly provider: string;
    readonly state: string;
    readonly endpoints: Readonly<
      Record<
        string,
        {
          readonly state: string;
          readonly addresses: readonly string[];
          readonly reason?: string;
          readonly held_by?: { readonly dseq: string };
        }
      >
    >;
  }[];
}

/** The one address of `endpoint` in the deployment's first lease ('' when it has none). */
export function addressOf(deployment: DeploymentJson, endpoint: string): string {
  return deployment.leases[0]?.endpoints[endpoint]?.addresses[0] ?? '';
}

/** Deployments of `owner` on the ledger (straight from its HTTP API, not through the CLI). */
export async function ledgerDeployments(
  url: string,
  owner: string,
): Promise<readonly { id: { dseq: string } }[]> {
  const response = await fetch(`${url}/v1/deployments?owner=${owner}`, { signal: AbortSignal.timeout(5000) });
  assert.equal(response.status, 200);
  return (await response.json()) as { id: { dseq: string } }[];
}

/** An SDL like the example, with its own endpoint name, image and placement. */
export function ipSdl(options: {
  readonly endpoints?: readonly string[];
  readonly image?: string;
  readonly ipLease?: boolean;
  /** Adds a service `worker` in a placement group of its own: two groups, which no one-group deployment can take. */
  readonly worker?: boolean;
}): string {
  const endpoints = options.endpoints ?? ['myendpoint'];
  const worker = options.worker === true;
  const ipLease = options.ipLease ?? endpoints.length > 0;
  const expose =
    endpoints.length === 0
      ? `      - port: 80\n        as: 80\n        to:\n          - global: true\n`
      : endpoints
          .map(
            (name, index) =>
              `      - port: ${80 + index}\n        as: 80\n        to:\n          - global: true\n            ip: ${name}\n`,
          )
          .join('');
  return `version: "2.0"
${endpoints.length === 0 ? '' : `endpoints:\n${endpoints.map((name) => `  ${name}:\n    kind: ip\n`).join('')}`}
services:
  web:
    image: ${options.image ?? 'nginx:1.27'}
    expose:
${expose}${worker ? '  worker:\n    image: busybox:1.36\n' : ''}
profiles:
  compute:
    web:
      resources:
        cpu:
          units: 0.5
        memory:
          size: 512Mi
        storage:
          size: 1Gi
  placement:
    dcloud:
${ipLease ? '      attributes:\n        ip-lease: true\n' : ''}      pricing:
        web:
          denom: uakt
          amount: 1000
${worker ? '    second:\n      pricing:\n        web:\n          denom: uakt\n          amount: 1000\n' : ''}
deployment:
  web:
    dcloud:
      profile: web
      count: 1
${worker ? '  worker:\n    second:\n      profile: web\n      count: 1\n' : ''}`;
}
