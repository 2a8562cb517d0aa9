import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '@commander-js/extra-typings';
import { type AppError, EXIT, ok, type Result } from '../../errors/index.js';
import type { Sdl } from '../../sdl/index.js';
import type { DeploymentState, LeaseState, Progress } from '../../tenant/flows.js';
import type { ConnectionOptions, Session } from '../../tenant/session.js';
import type { CliIo } from '../io.js';
import { colorsFor, emit, outputOption, printError, progressOn } from '../output.js';
import { globalsOf, pathsOf } from './common.js';
import { serveConsole } from './console.js';
import { addDevnetOptions, dataFlag, launchDevnet, serveUntilSignal } from './devnet.js';
import { load as loadSdl } from './sdl.js';

/** The repository's example SDL, found from this module whether it runs built (dist/) or from source. */
function exampleSdl(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'examples', 'ip-lease.yaml');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return join('examples', 'ip-lease.yaml');
    dir = parent;
  }
}

/** An active deployment of the same SDL version from an earlier run, with its active leases, if any. */
async function earlierDeployment(
  session: Session,
  sdl: Sdl,
): Promise<Result<DeploymentState | undefined, AppError>> {
  const { fetchLeaseState } = await import('../../tenant/flows.js');
  const owner = session.key.address;
  const deployments = await session.ledger.listDeployments({ owner, state: 'active' });
  if (!deployments.ok) return deployments;
  for (const deployment of deployments.value) {
    if (deployment.hash !== sdl.manifestVersion) continue;
    const leases = await session.ledger.listLeases({ owner, dseq: deployment.id.dseq, state: 'active' });
    if (!leases.ok) return leases;
    if (leases.value.length === 0) continue;
    const states: LeaseState[] = [];
    for (const lease of leases.value) states.push(await fetchLeaseState(session, lease));
    return ok({ deployment, leases: states });
  }
  return ok(undefined);
}

/** Deploys the SDL on the devnet, unless an earlier run already did: then shows that deployment. */
async function deployOnce(
  connection: ConnectionOptions,
  sdl: Sdl,
  file: string,
  progress: Progress,
): Promise<Result<{ state: DeploymentState; session: Session }, AppError>> {
  const [{ openSession }, { deploy }] = await Promise.all([
    import('../../tenant/session.js'),
    import('../../tenant/flows.js'),
  ]);
  const session = await openSession({ ...connection, ledger: undefined });
  if (!session.ok) return session;
  const earlier = await earlierDeployment(session.value, sdl);
  if (!earlier.ok) return earlier;
  if (earlier.value !== undefined) {
    progress(`deployment ${earlier.value.deployment.id.dseq} from an earlier run has this SDL; showing it`);
    return ok({ state: earlier.value, session: session.value });
  }
  progress(`deploying ${file}`);
  const deployed = await deploy(
    session.value,
    sdl,
    { choice: { pick: 'cheapest' }, deposit: 5_000_000n, bidTimeoutMs: 30_000, timeoutMs: 60_000 },
    progress,
  );
  return deployed.ok ? ok({ state: deployed.value, session: session.value }) : deployed;
}

/** The leased addresses of a deployment, for the closing line. */
function leasedAddresses(state: DeploymentState): string[] {
  return state.leases.flatMap((lease) =>
    Object.values(lease.status?.ip_endpoints ?? {}).flatMap((endpoint) => endpoint.addresses),
  );
}

/** Registers `akash-ip start`: what `npm start` runs. */
export function registerStartCommand(program: Command, io: CliIo, exit: { code: number }): void {
  addDevnetOptions(
    program
      .command('start')
      .description(
        'start the devnet and deploy examples/ip-lease.yaml end to end, print the leased IP, run until Ctrl-C',
      ),
  )
    .option('--sdl <file>', 'the SDL to deploy', exampleSdl())
    .addOption(outputOption())
    .action(async (options, command) => {
      const { deploymentReport } = await import('../report.js');
      const globals = globalsOf(command);
      const paths = await pathsOf(command, io);
      const loaded = await loadSdl(options.sdl, io, false);
      if ('exit' in loaded) {
        exit.code = loaded.exit;
        return;
      }
      const launched = await launchDevnet(io, paths.data, options, options.output, false);
      if ('exit' in launched) {
        exit.code = launched.exit;
        return;
      }
      const outcome = await deployOnce(
        { ...globals, data: paths.data },
        loaded.sdl,
        options.sdl,
        progressOn(io),
      );
      if (!outcome.ok) {
        exit.code = printError(io, outcome.error);
        await launched.devnet.stop();
        launched.stop.dispose();
        return;
      }
      const { state, session } = outcome.value;
      emit(io, options.output, deploymentReport(state, session.providerLabel));
      const addresses = leasedAddresses(state);
      if (options.output === 'table') {
        const colors = colorsFor(io.stdout);
        const flag = await dataFlag(paths.data);
        io.stdout.write(
          (addresses.length === 0
            ? 'no IP leased yet: see the endpoint notes above\n'
            : `${colors.bold(colors.green(`leased IP: ${addresses.join(', ')}`))}\n`) +
            `${colors.cyan('next')}: akash-ip lease-status --dseq ${state.deployment.id.dseq}${flag}` +
            ` · akash-ip provider pool${flag} · Ctrl-C stops the devnet\n`,
        );
      }
      const web = await serveConsole(io, session);
      await serveUntilSignal(io, launched);
      await web?.close();
      exit.code = EXIT.ok;
    });
}
