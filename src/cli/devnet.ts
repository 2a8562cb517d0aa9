/**
 * A local devnet in one data folder: the ledger (SQLite) served on 127.0.0.1 with its block clock, a funded
 * tenant key, and provider daemons started as child processes, each with its own key, config, store and log.
 * Everything is derived again from the folder on restart, so a stopped devnet resumes where it was.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { hex } from '@scure/base';
import { stringify } from 'yaml';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { addKey, getKey, type KeyInfo } from '../identity/index.js';
import { ipLeaseAttributes, offeredFamilies } from '../lease/index.js';
import {
  DEFAULT_BID_TIMEOUT_MS,
  DENOM,
  Ledger,
  type LedgerServer,
  runBlockClock,
  serveLedger,
} from '../market/index.js';
import type { Progress } from '../tenant/flows.js';
import {
  alreadyRunning,
  type DevnetFile,
  type DevnetProvider,
  devnetKeyring,
  runningDevnet,
  writeDevnetFile,
} from '../tenant/home.js';
import { DEFAULT_TENANT_KEY } from '../tenant/session.js';

/** One provider the devnet runs. */
export interface ProviderPlan {
  readonly name: string;
  /** Address ranges of its one pool; empty for a provider without IP leases. */
  readonly pool: readonly string[];
  /** USD per leased IP per month: different prices make `--pick cheapest` meaningful. */
  readonly ipUsdPerMonth: number;
}

/**
 * The default providers: two with IP pools of different sizes (documentation ranges) and one without.
 * provider-2's /30 holds only 4 addresses and sells them cheapest, so it is picked first and runs out first.
 * provider-1's pool is dual-stack, so it alone bids on orders that require `ip-lease-ipv6` (IPv4 + IPv6)
 * or `ip-lease-ipv6-only`.
 */
export const DEFAULT_PROVIDERS: readonly ProviderPlan[] = Object.freeze([
  { name: 'provider-1', pool: ['203.0.113.1-203.0.113.8', '2001:db8:1::1-2001:db8:1::8'], ipUsdPerMonth: 5 },
  { name: 'provider-2', pool: ['198.51.100.1-198.51.100.4'], ipUsdPerMonth: 4 },
  { name: 'provider-3', pool: [], ipUsdPerMonth: 5 },
]);

export interface DevnetOptions {
  readonly data: string;
  /** Wall time per block. */
  readonly blockMs: number;
  /** Cool-down of a released address in the providers' pools. */
  readonly quarantineMs: number;
  /**
   * How long a provider's bid waits for its lease before the provider withdraws it (default Akash's 5 minutes);
   * the ledger closes bids still open after twice that, behind a provider that died mid-bid.
   */
  readonly bidTimeoutMs?: number;
  /** Ledger port; 0 picks a free one. */
  readonly port: number;
  readonly providers?: readonly ProviderPlan[];
  readonly progress: Progress;
  /** How long each provider may take to listen and become ready. */
  readonly startTimeoutMs?: number;
}

/** A running devnet. */
export interface Devnet {
  readonly file: DevnetFile;
  /**
   * Providers that fail on their own: each is started again after a pause that doubles, at most
   * {@link MAX_RESTARTS} times in a row (`restartInMs`), then left down (no `restartInMs`). `lastLines` is the end
   * of its log, which restarts append to.
   */
  readonly exits: AsyncIterable<ProviderExit>;
  /** Stops the providers, the clock and the ledger, and marks the folder stopped. */
  stop(): Promise<void>;
}

/** A provider that exited on its own, and what the devnet does about it. */
export interface ProviderExit {
  readonly name: string;
  readonly code: number | null;
  readonly log: string;
  readonly lastLines: readonly string[];
  /** Restart attempt (1-based) and the pause before it; absent when the devnet gives up on the provider. */
  readonly restart?: { readonly attempt: number; readonly inMs: number };
}

/** Restarts in a row before the devnet gives up on a provider; a provider that ran a minute starts a new row. */
export const MAX_RESTARTS = 5;
const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 15_000;
const RESTART_STABLE_MS = 60_000;
/** A provider's log is moved to `daemon.log.1` at a start that finds it larger than this. */
export const MAX_LOG_BYTES = 4 << 20;
/** Lines of a dead provider's log the devnet reports. */
const LAST_LINES = 10;

/** uakt the faucet gives the tenant (1000 AKT) and each provider (10 AKT). */
const TENANT_FUNDS = 1_000_000_000n;
const PROVIDER_FUNDS = 10_000_000n;
const STOP_GRACE_MS = 5000;

/** How to run this CLI again as a child: the built `main.js`, or `main.ts` through tsx in development. */
export function cliCommand(): { readonly command: string; readonly args: readonly string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return {
      command: process.execPath,
      args: ['--import', 'tsx', fileURLToPath(new URL('./main.ts', here))],
    };
  }
  return { command: process.execPath, args: [fileURLToPath(new URL('./main.js', here))] };
}

async function ensureKey(dir: string, name: string): Promise<Result<KeyInfo, AppError>> {
  const existing = await getKey(dir, name);
  if (existing.ok) return existing;
  if (existing.error.code !== 'NOT_FOUND') return existing;
  return addKey(dir, name);
}

/** Funds an account once: when it is unknown or has no public key on record yet. */
function ensureFunded(ledger: Ledger, key: KeyInfo, amount: bigint): Result<void, AppError> {
  const account = ledger.getAccount(key.address);
  if (account.ok && account.value.pubkey !== null) return ok(undefined);
  const funded = ledger.fundAccount({
    address: key.address,
    amount: { denom: DENOM, amount: amount.toString() },
    pubkey: hex.encode(key.publicKey),
  });
  return funded.ok ? ok(undefined) : funded;
}

/** The daemon configuration of one provider (see src/daemon/config.ts). */
export function providerConfig(
  plan: ProviderPlan,
  ledgerUrl: string,
  quarantineMs: number,
  bidTimeoutMs: number = DEFAULT_BID_TIMEOUT_MS,
): string {
  const pools = plan.pool.length > 0 ? [{ name: `${plan.name}-pool`, addresses: [...plan.pool] }] : [];
  return stringify({
    provider: { keyring: '../../keys', key: plan.name },
    // plain HTTP: the devnet's tenant flows reach their providers by the ledger's hostUri with fetch
    listen: { host: '127.0.0.1', port: 0, tls: false },
    store: { kind: 'sqlite', path: 'store.sqlite' },
    pools,
    quarantineMs,
    attributes: [{ key: 'region', value: 'devnet' }, ...ipLeaseAttributes(offeredFamilies(pools))],
    pricing: { usdPerMonth: { ip: plan.ipUsdPerMonth } },
    ledger: { url: ledgerUrl, pollIntervalMs: 200, bidTimeoutMs },
  });
}

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly log: WriteStream;
  readonly logPath: string;
  readonly exited: Promise<number | null>;
}

/** Starts one provider daemon and resolves with its URL once it has printed its `listening` line. */
async function spawnProvider(
  name: string,
  folder: string,
  timeoutMs: number,
): Promise<Result<{ child: Child; url: string }, AppError>> {
  const logPath = join(folder, 'daemon.log');
  await rotateLog(logPath);
  const log = createWriteStream(logPath, { flags: 'a', mode: 0o600 });
  const cli = cliCommand();
  const child = spawn(
    cli.command,
    [...cli.args, 'provider', 'run', '--config', join(folder, 'provider.yaml'), '--stop-with-stdin'],
    {
      // The daemon stops when this pipe closes, so it never outlives the devnet, even a killed one.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr?.pipe(log, { end: false });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = new Promise<string | undefined>((resolve) => {
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      try {
        const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
        if (entry.msg === 'listening' && typeof entry.url === 'string') resolve(entry.url);
      } catch {
        // not a JSON line: kept in the log only
      }
    });
    void exited.then(() => resolve(undefined));
  });
  const timer = sleep(timeoutMs, 'timeout' as const, { ref: false });
  const first = await Promise.race([url, timer]);
  const handle: Child = { name, process: child, log, logPath, exited };
  if (first === undefined || first === 'timeout') {
    await stopChild(handle);
    return fail(
      appError(
        'UNAVAILABLE',
        `${name} did not start${first === 'timeout' ? ` within ${timeoutMs} ms` : ''}; see its log ${logPath}`,
      ),
    );
  }
  return ok({ child: handle, url: first });
}

/** Moves a log grown past {@link MAX_LOG_BYTES} to `<log>.1` (replacing an older one): restarts append to a bounded file. */
export async function rotateLog(path: string): Promise<void> {
  try {
    if ((await stat(path)).size > MAX_LOG_BYTES) await rename(path, `${path}.1`);
  } catch {
    // no log yet
  }
}

/** The last `count` lines of a log (read from its end, so a large log costs little). */
export async function lastLinesOf(path: string, count = LAST_LINES): Promise<string[]> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      await file.read(buffer, 0, length, size - length);
      return buffer
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== '')
        .slice(-count);
    } finally {
      await file.close();
    }
  } catch {
    return [];
  }
}

/** Checks every 100 ms until `check` holds, or fails with `late` once `deadline` has passed. */
async function pollUntil(
  deadline: number,
  check: () => boolean | Promise<boolean>,
  late: () => AppError,
): Promise<Result<void, AppError>> {
  for (;;) {
    if (await check()) return ok(undefined);
    if (Date.now() >= deadline) return fail(late());
    await sleep(100);
  }
}

function waitReady(
  name: string,
  url: string,
  logPath: string,
  deadline: number,
): Promise<Result<void, AppError>> {
  return pollUntil(
    deadline,
    async () => {
      try {
        const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        return response.ok;
      } catch {
        return false; // not answering yet
      }
    },
    () => appError('UNAVAILABLE', `${name} at ${url} did not become ready; see its log ${logPath}`),
  );
}

function waitRegistered(
  ledger: Ledger,
  name: string,
  address: string,
  url: string,
  deadline: number,
): Promise<Result<void, AppError>> {
  return pollUntil(
    deadline,
    () => {
      const provider = ledger.getProvider(address);
      return provider.ok && provider.value.hostUri.replace(/\/+$/, '') === url.replace(/\/+$/, '');
    },
    () => appError('UNAVAILABLE', `${name} did not register ${url} on the ledger in time`),
  );
}

async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) {
    child.process.kill('SIGTERM');
    const done = await Promise.race([
      child.exited.then(() => true),
      sleep(STOP_GRACE_MS, false, { ref: false }),
    ]);
    if (!done) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  }
  await new Promise<void>((resolve) => child.log.end(resolve));
}

/** Starts (or resumes) the devnet in `options.data`. */
export async function startDevnet(options: DevnetOptions): Promise<Result<Devnet, AppError>> {
  const { data, progress } = options;
  const plans = options.providers ?? DEFAULT_PROVIDERS;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  await mkdir(data, { recursive: true, mode: 0o700 });
  const running = await runningDevnet(data);
  if (running !== undefined) return fail(alreadyRunning(data, running));

  const keyring = devnetKeyring(data);
  const tenant = await ensureKey(keyring, DEFAULT_TENANT_KEY);
  if (!tenant.ok) return tenant;
  const providerKeys: KeyInfo[] = [];
  for (const plan of plans) {
    const key = await ensureKey(keyring, plan.name);
    if (!key.ok) return key;
    providerKeys.push(key.value);
  }

  // the ledger's safety net behind the providers' own bid timeouts: bids still open after twice that are closed
  const bidTimeoutMs = options.bidTimeoutMs ?? DEFAULT_BID_TIMEOUT_MS;
  const opened = Ledger.open({
    path: join(data, 'ledger.sqlite'),
    bidTtlBlocks: Math.ceil((2 * bidTimeoutMs) / options.blockMs),
  });
  if (!opened.ok) return opened;
  const ledger = opened.value;
  const clock = new AbortController();
  /** Each provider's current process. */
  const children = new Map<string, Child>();
  let server: LedgerServer | undefined;
  const shutdown = async () => {
    await Promise.all([...children.values()].map(stopChild));
    clock.abort();
    await server?.close();
    ledger.close();
  };

  const funded = [ensureFunded(ledger, tenant.value, TENANT_FUNDS)];
  for (const key of providerKeys) funded.push(ensureFunded(ledger, key, PROVIDER_FUNDS));
  const failedFunding = funded.find((result) => !result.ok);
  if (failedFunding !== undefined && !failedFunding.ok) {
    await shutdown();
    return failedFunding;
  }

  const adminToken = hex.encode(randomBytes(24));
  try {
    server = await serveLedger(ledger, {
      adminToken,
      port: options.port,
      onBug: (error) => progress(`the ledger failed on a request: ${error.stack ?? error.message}`),
    });
  } catch (error) {
    await shutdown();
    return fail(
      appError('UNAVAILABLE', `cannot serve the ledger on 127.0.0.1:${options.port}: ${String(error)}`),
    );
  }
  void runBlockClock(ledger, { intervalMs: options.blockMs, signal: clock.signal });
  progress(`ledger ${server.url} (${join(data, 'ledger.sqlite')}), one block every ${options.blockMs} ms`);

  /** Starts one provider and waits until it is ready and registered; its process goes into `children` at once. */
  const startProvider = async (
    index: number,
    deadline: number,
  ): Promise<Result<DevnetProvider, AppError>> => {
    const plan = plans[index] as ProviderPlan;
    const folder = join(data, 'providers', plan.name);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const config = providerConfig(plan, ledgerUrl, options.quarantineMs, options.bidTimeoutMs);
    await writeFile(join(folder, 'provider.yaml'), config, { mode: 0o600 });
    const spawned = await spawnProvider(plan.name, folder, startTimeoutMs);
    if (!spawned.ok) return spawned;
    const { child, url } = spawned.value;
    children.set(plan.name, child);
    const ready = await waitReady(plan.name, url, child.logPath, deadline);
    const address = providerKeys[index]?.address ?? '';
    const registered = ready.ok ? await waitRegistered(ledger, plan.name, address, url, deadline) : ready;
    if (!registered.ok) {
      await stopChild(child);
      return registered;
    }
    progress(`${plan.name} ready at ${url}`);
    return ok<DevnetProvider>({
      name: plan.name,
      address,
      url,
      ipLease: plan.pool.length > 0,
      pools: [...plan.pool],
      config: join(folder, 'provider.yaml'),
      log: child.logPath,
      pid: child.process.pid ?? 0,
    });
  };

  const ledgerUrl = server.url;
  const entries: DevnetProvider[] = [];
  const deadline = Date.now() + startTimeoutMs;
  const started = await Promise.all(plans.map((_, index) => startProvider(index, deadline)));
  for (const result of started) {
    if (!result.ok) {
      await shutdown();
      return result;
    }
    entries.push(result.value);
  }

  let file: DevnetFile = {
    version: 1,
    pid: process.pid,
    ledger: { url: ledgerUrl, adminToken },
    blockMs: options.blockMs,
    tenant: { key: DEFAULT_TENANT_KEY, address: tenant.value.address },
    providers: entries,
    startedAt: Date.now(),
  };
  await writeDevnetFile(data, file);
  const firstFile = file;

  const reported: ProviderExit[] = [];
  let wake: () => void = () => undefined;
  const report = (exit: ProviderExit): void => {
    reported.push(exit);
    wake();
  };

  /**
   * Restarts a provider that exits on its own, after a pause doubling from RESTART_FIRST_MS, at most MAX_RESTARTS
   * times in a row; one that ran RESTART_STABLE_MS starts a new row. Its new URL and pid go into devnet.json.
   */
  const supervise = async (index: number): Promise<void> => {
    const name = (plans[index] as ProviderPlan).name;
    let attempt = 0;
    let startFailed = false;
    for (;;) {
      const child = children.get(name);
      if (child === undefined) return;
      const since = Date.now();
      const code = await child.exited;
      // a clean exit comes from a signal the whole process group got (Ctrl-C): the devnet is stopping
      if (clock.signal.aborted || (code === 0 && !startFailed)) return;
      if (!startFailed && Date.now() - since >= RESTART_STABLE_MS) attempt = 0;
      attempt++;
      const lastLines = await lastLinesOf(child.logPath);
      if (attempt > MAX_RESTARTS) {
        report({ name, code, log: child.logPath, lastLines });
        return;
      }
      const inMs = Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** (attempt - 1));
      report({ name, code, log: child.logPath, lastLines, restart: { attempt, inMs } });
      try {
        await sleep(inMs, undefined, { signal: clock.signal });
      } catch {
        return;
      }
      const restarted = await startProvider(index, Date.now() + startTimeoutMs);
      startFailed = !restarted.ok;
      if (!restarted.ok) continue;
      entries[index] = restarted.value;
      file = { ...file, providers: [...entries] };
      await writeDevnetFile(data, file);
    }
  };
  let supervising = true;
  void Promise.all(plans.map((_, index) => supervise(index))).then(() => {
    supervising = false;
    wake();
  });

  const exits = (async function* () {
    for (;;) {
      const next = reported.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (!supervising) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  })();

  return ok({
    file: firstFile,
    exits,
    async stop() {
      clock.abort();
      await shutdown();
      await writeDevnetFile(data, {
        ...file,
        pid: null,
        providers: entries.map((entry) => ({ ...entry, pid: 0 })),
      });
    },
  });
}
