import { type Command, InvalidArgumentError, type OptionValues } from '@commander-js/extra-typings';
import { type AppError, appError, EXIT, fail, ok, type Result } from '../../errors/index.js';
import type { DevnetFile, Paths } from '../../tenant/home.js';
import type { ConnectionOptions } from '../../tenant/session.js';
import type { Devnet } from '../devnet.js';
import type { CliIo } from '../io.js';
import {
  emit,
  type OutputFormat,
  outputOption,
  printError,
  progressOn,
  type Report,
  renderTable,
} from '../output.js';
import { finish, globalsOf, pathsOf, secondsOption, uaktOption } from './common.js';

function parseBlockMs(text: string): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < 10 || value > 600_000) {
    throw new InvalidArgumentError('must be a whole number of milliseconds between 10 and 600000');
  }
  return value;
}

/** A TCP port 0-65535 (0: any free port), as an option value. */
export function parsePort(text: string): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535');
  return value;
}

/** One provider in the summary: its devnet entry plus what its `/status` says about its pool. */
interface ProviderSummary {
  readonly name: string;
  readonly address: string;
  readonly url: string;
  readonly ipLease: boolean;
  readonly pools: readonly string[];
  /** null when the provider did not answer. */
  readonly capacity: bigint | null;
  readonly free: bigint | null;
}

/** The devnet's summary: where everything is, and (for `devnet`) what to run next. */
async function devnetReport(file: DevnetFile, data: string, hint: boolean): Promise<Report> {
  const { freeIps, ProviderClient } = await import('../../tenant/provider-client.js');
  const flag = await dataFlag(data);
  const providers: ProviderSummary[] = [];
  for (const entry of file.providers) {
    const status = await new ProviderClient({ url: entry.url, timeoutMs: 3000 }).status();
    const capacity = status.ok ? (status.value.cluster.inventory.leased_ip?.capacity ?? 0n) : null;
    providers.push({
      name: entry.name,
      address: entry.address,
      url: entry.url,
      ipLease: entry.ipLease,
      pools: entry.pools,
      capacity,
      free: status.ok ? freeIps(status.value) : null,
    });
  }
  const { adminToken: _secret, ...ledger } = file.ledger;
  return {
    data: { data, ledger, blockMs: file.blockMs, tenant: file.tenant, providers },
    human: (colors) =>
      `${colors.bold('devnet ready')}  data ${data}\n` +
      `ledger  ${ledger.url}  (one block every ${file.blockMs} ms)\n` +
      `tenant  key "${file.tenant.key}"  ${file.tenant.address}\n\n` +
      renderTable(
        providers,
        [
          { header: 'PROVIDER', value: (p) => p.name },
          { header: 'ADDRESS', value: (p) => p.address },
          { header: 'URL', value: (p) => p.url },
          {
            header: 'IP POOL',
            value: (p) => (p.pools.length === 0 ? '- (no IP leases)' : p.pools.join(', ')),
          },
          {
            header: 'FREE IPS',
            value: (p) => (p.ipLease ? `${p.free ?? '?'}/${p.capacity ?? '?'}` : '-'),
          },
        ],
        colors,
      ) +
      (hint ? `\n${colors.cyan('next')}: akash-ip deploy examples/ip-lease.yaml${flag}\n` : '\n'),
  };
}

/** ` --data DIR` when the folder is not the one commands find by default. */
export async function dataFlag(data: string): Promise<string> {
  const { resolvePaths } = await import('../../tenant/home.js');
  const defaults = resolvePaths({}, process.env, process.cwd()).data;
  return data === defaults ? '' : ` --data ${data}`;
}

/** Resolves on the first SIGINT or SIGTERM; `dispose` removes the handlers. */
export function untilSignal(): { readonly signal: Promise<NodeJS.Signals>; dispose(): void } {
  let handler: (signal: NodeJS.Signals) => void = () => undefined;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    handler = resolve;
  });
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Options shared by `devnet` and `start`. */
export interface DevnetFlags {
  readonly blockMs: number;
  readonly port: number;
  readonly quarantine: number;
  readonly bidTimeout: number;
}

/** Adds `--block-ms`, `--port`, `--quarantine` and `--bid-timeout`. */
export function addDevnetOptions<G extends OptionValues>(command: Command<[], Record<never, never>, G>) {
  return command
    .option('--block-ms <ms>', 'wall time per ledger block', parseBlockMs, 1000)
    .option('--port <port>', 'ledger port on 127.0.0.1 (0: any free port)', parsePort, 0)
    .addOption(
      secondsOption('--quarantine <seconds>', 'cool-down of a released IP before it is leased again', 60),
    )
    .addOption(
      secondsOption(
        '--bid-timeout <seconds>',
        "how long a provider's bid waits for its lease before it is withdrawn and its IPs released",
        300,
      ),
    );
}

/** A started devnet and the Ctrl-C (or SIGTERM) that is to stop it. */
export interface LaunchedDevnet {
  readonly devnet: Devnet;
  readonly stop: { readonly signal: Promise<NodeJS.Signals>; dispose(): void };
}

/**
 * Starts the devnet in `data`, reporting progress on stderr, and prints its summary (with the next step when `hint`);
 * or prints why it did not start and returns the exit code. The signal handlers go in first, so a Ctrl-C during the
 * start is not lost.
 */
export async function launchDevnet(
  io: CliIo,
  data: string,
  flags: DevnetFlags,
  format: OutputFormat,
  hint: boolean,
): Promise<LaunchedDevnet | { exit: number }> {
  const stop = untilSignal();
  const { startDevnet } = await import('../devnet.js');
  const devnet = await startDevnet({
    data,
    blockMs: flags.blockMs,
    port: flags.port,
    quarantineMs: flags.quarantine,
    bidTimeoutMs: flags.bidTimeout,
    progress: progressOn(io),
  });
  if (!devnet.ok) {
    stop.dispose();
    return { exit: printError(io, devnet.error) };
  }
  emit(io, format, await devnetReport(devnet.value.file, data, hint));
  return { devnet: devnet.value, stop };
}

/** Keeps the devnet up until Ctrl-C (or SIGTERM), telling about providers that die, then stops it. */
export async function serveUntilSignal(io: CliIo, { devnet, stop }: LaunchedDevnet): Promise<void> {
  const progress = progressOn(io);
  progress('Ctrl-C stops the devnet; its state stays in the data folder and a restart resumes it');
  const { MAX_RESTARTS } = await import('../devnet.js');
  const watch = (async () => {
    for await (const exit of devnet.exits) {
      const last = exit.lastLines.map((line) => `  | ${line}`).join('\n');
      const next =
        exit.restart === undefined
          ? `giving up after ${MAX_RESTARTS} restarts in a row`
          : `restart ${exit.restart.attempt}/${MAX_RESTARTS} in ${exit.restart.inMs} ms`;
      progress(
        `${exit.name} exited (code ${exit.code ?? 'signal'}); ${next}; its log ${exit.log} ends:\n${last}`,
      );
    }
  })();
  const signal = await stop.signal;
  progress(`${signal}: stopping the providers and the ledger`);
  await devnet.stop();
  stop.dispose();
  await watch;
}

/** Registers `akash-ip devnet` and `akash-ip fund`. */
export function registerDevnetCommands(program: Command, io: CliIo, exit: { code: number }): void {
  addDevnetOptions(
    program
      .command('devnet')
      .description(
        'run a local devnet until Ctrl-C: ledger, funded tenant key, and three providers (two with IP pools, one without)',
      ),
  )
    .addOption(outputOption())
    .action(async (options, command) => {
      const paths = await pathsOf(command, io);
      const launched = await launchDevnet(io, paths.data, options, options.output as OutputFormat, true);
      if ('exit' in launched) {
        exit.code = launched.exit;
        return;
      }
      await serveUntilSignal(io, launched);
      exit.code = EXIT.ok;
    });

  program
    .command('fund')
    .description('give an account devnet tokens from the faucet (and record its public key, for a key name)')
    .argument('<key-or-address>', 'a key name (home keyring, then devnet keyring) or an akash1 address')
    .addOption(uaktOption('--amount <uakt>', 'uakt to give', 100_000_000n))
    .addOption(outputOption())
    .action(async (target, options, command) => {
      const paths = await pathsOf(command, io);
      finish(io, exit, options.output, await fund(globalsOf(command), paths, target, options.amount));
    });
}

async function fund(
  globals: ConnectionOptions,
  paths: Paths,
  target: string,
  amount: bigint,
): Promise<Result<Report, AppError>> {
  const [{ isAddress }, { DENOM, LedgerClient }, { readDevnetFile }, { findKey }] = await Promise.all([
    import('../../identity/index.js'),
    import('../../market/index.js'),
    import('../../tenant/home.js'),
    import('../../tenant/session.js'),
  ]);
  const file = await readDevnetFile(paths.data);
  if (!file.ok) return file;
  let address = target;
  let pubkey: string | undefined;
  if (!isAddress(target)) {
    const found = await findKey(paths, target);
    if (!found.ok) return found;
    address = found.value.key.address;
    pubkey = Buffer.from(found.value.key.publicKey).toString('hex');
  }
  const ledger = new LedgerClient({
    url: globals.ledger ?? file.value.ledger.url,
    adminToken: file.value.ledger.adminToken,
  });
  const funded = await ledger.fundAccount({
    address,
    amount: { denom: DENOM, amount: amount.toString() },
    ...(pubkey === undefined ? {} : { pubkey }),
  });
  if (!funded.ok) {
    return fail(
      funded.error.code === 'UNAVAILABLE'
        ? appError(
            'UNAVAILABLE',
            `the devnet in ${paths.data} does not answer; start it with \`akash-ip devnet\``,
          )
        : funded.error,
    );
  }
  const account = funded.value;
  return ok({
    data: account,
    human: () => `${account.address}  balance ${account.balance} ${DENOM}\n`,
  });
}
