/**
 * What tenant and devnet commands share: the global options (`--home`, `--data`, `--ledger`, `--from`), typed
 * argument parsers that turn bad values into usage errors, and one way to finish a command.
 *
 * Command modules declare their commands when the program is built, for every run and every `--help`: at module
 * level they import only commander, the parsers here, the output formats and types. What an action needs (the SDL
 * engine, the session, the ledger and provider clients) it imports when it runs (`await import(…)`).
 */
import { type Command, InvalidArgumentError, Option, type OptionValues } from '@commander-js/extra-typings';
import { isDseq } from '../../akash-id/index.js';
import { type AppError, EXIT, type Result } from '../../errors/index.js';
import type { Paths } from '../../tenant/home.js';
import type { ProviderClient } from '../../tenant/provider-client.js';
import type { ConnectionOptions, Session } from '../../tenant/session.js';
import { GLOBAL_OPTIONS } from '../argv.js';
import type { GatewayFlags } from '../gateway.js';
import type { CliIo } from '../io.js';
import { emit, type OutputFormat, printError, type Report } from '../output.js';

/** Adds the options every tenant command understands, anywhere on the command line. */
export function addGlobalOptions(program: Command): void {
  for (const { flags, description } of GLOBAL_OPTIONS) program.option(flags, description);
}

/** The `provider` command group, created by whichever of its subcommands registers first. */
export function providerCommand(program: Command): Command {
  return (
    (program.commands.find((command) => command.name() === 'provider') as Command | undefined) ??
    program.command('provider').description('Run and inspect an IP-lease provider')
  );
}

/** The global options of the command being run. */
export function globalsOf(command: { optsWithGlobals(): object }): ConnectionOptions {
  const all = command.optsWithGlobals() as Record<string, unknown>;
  const text = (name: string) => (typeof all[name] === 'string' ? (all[name] as string) : undefined);
  return { home: text('home'), data: text('data'), ledger: text('ledger'), from: text('from') };
}

/** The runs already told that their devnet is the one in the working folder. */
const toldLegacy = new WeakSet<CliIo>();

/** The folders of the command being run; says once on stderr when the devnet is found in the working folder. */
export async function pathsOf(command: { optsWithGlobals(): object }, io: CliIo): Promise<Paths> {
  const { resolvePaths } = await import('../../tenant/home.js');
  const paths = resolvePaths(globalsOf(command), process.env, process.cwd());
  if (paths.legacy && !toldLegacy.has(io)) {
    toldLegacy.add(io);
    io.stderr.write(
      `note: using the devnet in ${paths.data}, where earlier versions kept it; new devnets live in <home>/devnet (~/.akash-ip/devnet), or pass --data\n`,
    );
  }
  return paths;
}

/** Prints a command's report (or its error) and records the exit code. */
export function finish(
  io: CliIo,
  exit: { code: number },
  format: OutputFormat,
  result: Result<Report, AppError>,
): void {
  if (!result.ok) {
    exit.code = printError(io, result.error);
    return;
  }
  emit(io, format, result.value);
  const { incomplete } = result.value;
  // the report is on stdout; why it is incomplete, and what to do, goes to stderr like any error
  exit.code = incomplete === undefined ? EXIT.ok : printError(io, incomplete);
}

/** Runs a command that needs the tenant session: opens it (or prints why not), then finishes with `body`'s outcome. */
export async function withSession(
  command: { optsWithGlobals(): object },
  io: CliIo,
  exit: { code: number },
  format: OutputFormat,
  body: (session: Session) => Promise<Result<Report, AppError>>,
): Promise<void> {
  const { openSession } = await import('../../tenant/session.js');
  await pathsOf(command, io);
  const session = await openSession(globalsOf(command));
  if (!session.ok) {
    exit.code = printError(io, session.error);
    return;
  }
  finish(io, exit, format, await body(session.value));
}

/** A deployment sequence: a uint64 in decimal, as Akash prints it. */
export function parseDseq(text: string): string {
  if (!isDseq(text)) {
    throw new InvalidArgumentError('must be a deployment sequence number (a positive integer)');
  }
  return text;
}

/** A group or order sequence: 1 … 2^32-1. */
export function parseSeq(text: string): number {
  const value = Number(text);
  if (!/^[1-9][0-9]*$/.test(text) || value > 0xffff_ffff) {
    throw new InvalidArgumentError('must be a positive integer below 2^32');
  }
  return value;
}

/** A positive number of seconds, returned in milliseconds. */
function parseSeconds(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 3600) {
    throw new InvalidArgumentError('must be a number of seconds between 0 and 3600');
  }
  return Math.round(value * 1000);
}

/** An amount of uakt: a positive integer. */
function parseUakt(text: string): bigint {
  if (!/^[1-9][0-9]{0,30}$/.test(text))
    throw new InvalidArgumentError('must be a positive whole number of uakt');
  return BigInt(text);
}

/** An option taking seconds (parsed to milliseconds), whose help shows the default in seconds. */
export function secondsOption<F extends string>(flags: F, description: string, defaultSeconds: number) {
  return new Option(flags, description)
    .argParser(parseSeconds)
    .default(defaultSeconds * 1000, `${defaultSeconds}`);
}

/** An option taking uakt (parsed to a bigint), whose help shows the default. */
export function uaktOption<F extends string>(flags: F, description: string, defaultUakt: bigint) {
  return new Option(flags, description).argParser(parseUakt).default(defaultUakt, `${defaultUakt}`);
}

/** The options that point a tenant command at any provider by URL, and say how to authenticate and trust it. */
export function addGatewayOptions<
  Args extends unknown[],
  Opts extends OptionValues,
  Globals extends OptionValues,
>(command: Command<Args, Opts, Globals>) {
  return command
    .option(
      '--provider-url <url>',
      'talk to the provider at this URL (https://host:8443) instead of the devnet’s',
    )
    .addOption(
      new Option('--auth-type <type>', 'how to authenticate: a JWT signed with your key, or your certificate')
        .choices(['jwt', 'mtls'] as const)
        .default('jwt' as const),
    )
    .option('--provider-cert <file>', 'the certificate the provider must present (when no ledger is at hand)')
    .option('--ca <file>', 'CA certificate(s) that vouch for the provider’s certificate');
}

/** The gateway flags of a command's options (see addGatewayOptions), when it names a provider URL. */
export function gatewayFlagsOf(options: {
  readonly providerUrl?: string | undefined;
  readonly provider?: string | undefined;
  readonly authType?: 'jwt' | 'mtls' | undefined;
  readonly providerCert?: string | undefined;
  readonly ca?: string | undefined;
}): GatewayFlags | undefined {
  if (options.providerUrl === undefined) return undefined;
  return {
    providerUrl: options.providerUrl,
    provider: options.provider,
    authType: options.authType ?? 'jwt',
    providerCert: options.providerCert,
    ca: options.ca,
  };
}

/** Runs a command against a provider given by URL: the client (or why not), then `body`'s outcome. */
export async function withGateway(
  command: { optsWithGlobals(): object },
  io: CliIo,
  exit: { code: number },
  format: OutputFormat,
  flags: GatewayFlags,
  body: (client: ProviderClient) => Promise<Result<Report, AppError>>,
): Promise<void> {
  const { gatewayClient } = await import('../gateway.js');
  const paths = await pathsOf(command, io);
  const globals = globalsOf(command);
  const connected = await gatewayClient(paths, globals.from ?? 'tenant', globals.ledger, flags);
  if (!connected.ok) {
    exit.code = printError(io, connected.error);
    return;
  }
  finish(io, exit, format, await body(connected.value.client));
}
