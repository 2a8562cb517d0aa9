/**
 * Commands that talk to a provider's gateway directly — `send-manifest`, `get-manifest`, `service-status` — on the
 * devnet or, with `--provider-url`, on any Akash provider; and `cert create|list|revoke`, the account certificates
 * mTLS uses (Akash's `provider-services tx cert`). Heavy modules are imported when an action runs.
 */
import { Argument, type Command, Option, type OptionValues } from '@commander-js/extra-typings';
import { type AppError, appError, fail, ok, type Result } from '../../errors/index.js';
import type { ProviderClient } from '../../tenant/provider-client.js';
import type { Session } from '../../tenant/session.js';
import type { CliIo } from '../io.js';
import { type OutputFormat, outputOption, type Report, renderTable } from '../output.js';
import {
  addGatewayOptions,
  gatewayFlagsOf,
  parseDseq,
  parseSeq,
  pathsOf,
  withGateway,
  withSession,
} from './common.js';
import { load as loadSdl } from './sdl.js';

/** A provider's JSON answer as the report: the JSON itself, also for the table format. */
function jsonReport(data: unknown): Report {
  return { data, human: () => `${JSON.stringify(data, null, 2)}\n` };
}

/** The devnet provider of deployment `dseq`: `--provider`, else the one its leases are on. */
async function devnetClient(
  session: Session,
  dseq: string,
  provider: string | undefined,
): Promise<Result<ProviderClient, AppError>> {
  if (provider !== undefined) {
    const resolved = session.resolveProvider(provider);
    return resolved.ok ? session.providerClient(resolved.value) : resolved;
  }
  const leases = await session.ledger.listLeases({ owner: session.key.address, dseq, state: 'active' });
  if (!leases.ok) return leases;
  const providers = [...new Set(leases.value.map((lease) => lease.id.provider))];
  if (providers.length !== 1 || providers[0] === undefined) {
    return fail(
      appError(
        'USAGE',
        providers.length === 0
          ? `deployment ${dseq} has no active lease: pass --provider`
          : `deployment ${dseq} has leases on several providers: pass --provider`,
      ),
    );
  }
  return session.providerClient(providers[0]);
}

/** `--dseq`, `--gseq`, `--oseq` (default 1) and `--provider` of a lease, and `--output`. */
function leaseOptions<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(
  command: Command<Args, Opts, Globals>,
) {
  return command
    .requiredOption('--dseq <dseq>', 'deployment sequence', parseDseq)
    .option('--gseq <gseq>', 'group', parseSeq, 1)
    .option('--oseq <oseq>', 'order', parseSeq, 1)
    .option(
      '--provider <name-or-address>',
      'the provider (a devnet name or, with --provider-url, its address)',
    )
    .addOption(outputOption());
}

export function registerGatewayCommands(program: Command, io: CliIo, exit: { code: number }): void {
  /** Runs `body` with a client of the provider: by URL when given, else the devnet's provider of the deployment. */
  const withProvider = (
    command: { optsWithGlobals(): object },
    options: Parameters<typeof gatewayFlagsOf>[0] & { readonly dseq: string; readonly output: OutputFormat },
    body: (client: ProviderClient) => Promise<Result<Report, AppError>>,
  ): Promise<void> => {
    const flags = gatewayFlagsOf(options);
    if (flags !== undefined) return withGateway(command, io, exit, options.output, flags, body);
    return withSession(command, io, exit, options.output, async (session) => {
      const client = await devnetClient(session, options.dseq, options.provider);
      return client.ok ? body(client.value) : client;
    });
  };

  addGatewayOptions(
    program
      .command('send-manifest')
      .description('send a deployment’s manifest (from its SDL) to its provider')
      .argument('<sdl>', 'SDL file')
      .requiredOption('--dseq <dseq>', 'deployment sequence', parseDseq)
      .option(
        '--provider <name-or-address>',
        'the provider (a devnet name or, with --provider-url, its address)',
      )
      .addOption(outputOption()),
  ).action(async (file, options, command) => {
    const loaded = await loadSdl(file, io, false);
    if ('exit' in loaded) {
      exit.code = loaded.exit;
      return;
    }
    const { goJson } = await import('../../sdl/index.js');
    await withProvider(command, options, async (client) => {
      const sent = await client.sendManifest(options.dseq, goJson(loaded.sdl.manifest));
      return sent.ok ? ok(jsonReport(sent.value)) : sent;
    });
  });

  addGatewayOptions(
    leaseOptions(
      program
        .command('get-manifest')
        .description('show the manifest a provider holds for a lease (Akash’s GetManifest)'),
    ),
  ).action((options, command) =>
    withProvider(command, options, async (client) => {
      const got = await client.getManifest({ dseq: options.dseq, gseq: options.gseq, oseq: options.oseq });
      return got.ok ? ok(jsonReport(got.value)) : got;
    }),
  );

  addGatewayOptions(
    leaseOptions(
      program
        .command('service-status')
        .description('show one service of a lease as its provider reports it (Akash’s ServiceStatus)')
        .argument('<service>', 'service name'),
    ),
  ).action((service, options, command) =>
    withProvider(command, options, async (client) => {
      const lease = { dseq: options.dseq, gseq: options.gseq, oseq: options.oseq };
      const got = await client.serviceStatus(lease, service);
      return got.ok ? ok(jsonReport(got.value)) : got;
    }),
  );

  const cert = program.command('cert').description('account certificates for mTLS, published on the ledger');

  cert
    .command('create')
    .description('create a self-signed certificate for your key (CN = your address), publish it and keep it')
    .addArgument(
      new Argument('<kind>', 'client (mTLS to providers) or server (a provider gateway)').choices([
        'client',
        'server',
      ] as const),
    )
    .option('--host <names...>', 'server: DNS names or IP addresses it serves', [] as string[])
    .option('--days <days>', 'validity in days', parseSeq, 365)
    .addOption(outputOption())
    .action((kind, options, command) =>
      withSession(command, io, exit, options.output, async (session) => {
        const { createAccountCertificate } = await import('../../x509/index.js');
        const { saveCertificate } = await import('../gateway.js');
        const now = Date.now();
        const made = createAccountCertificate({
          address: session.key.address,
          kind,
          notBefore: new Date(now - 60_000),
          notAfter: new Date(now + options.days * 86_400_000),
          hosts: options.host,
        });
        if (!made.ok) return made;
        const published = await session.ledger.createCertificate({
          owner: session.key.address,
          cert: made.value.cert,
          pubkey: made.value.pubkey,
        });
        if (!published.ok) return published;
        const saved = await saveCertificate(
          session.paths,
          session.key.address,
          made.value.cert,
          made.value.key,
        );
        if (!saved.ok) return saved;
        const data = { owner: session.key.address, serial: made.value.serial, kind, file: saved.value };
        return ok({
          data,
          human: () =>
            `published ${kind} certificate ${data.serial} of ${data.owner}; certificate and key in ${data.file}\n`,
        });
      }),
    );

  cert
    .command('list')
    .description('list certificates on the ledger (default: your own)')
    .option('--owner <address>', 'whose certificates')
    .addOption(
      new Option('--state <state>', 'only valid or revoked ones').choices(['valid', 'revoked'] as const),
    )
    .option('--serial <serial>', 'only this serial')
    .addOption(outputOption())
    .action((options, command) =>
      withSession(command, io, exit, options.output, async (session) => {
        const listed = await session.ledger.listCertificates({
          owner: options.owner ?? session.key.address,
          ...(options.state === undefined ? {} : { state: options.state }),
          ...(options.serial === undefined ? {} : { serial: options.serial }),
        });
        if (!listed.ok) return listed;
        const rows = listed.value.map(({ owner, serial, state, createdHeight }) => ({
          owner,
          serial,
          state,
          createdHeight,
        }));
        return ok({
          data: rows,
          human: (colors) =>
            renderTable(
              rows,
              [
                { header: 'OWNER', value: (row) => row.owner },
                { header: 'SERIAL', value: (row) => row.serial },
                { header: 'STATE', value: (row) => row.state },
                { header: 'HEIGHT', value: (row) => String(row.createdHeight) },
              ],
              colors,
            ),
        });
      }),
    );

  cert
    .command('revoke')
    .description('revoke one of your certificates on the ledger (default: the one kept in your home)')
    .option('--serial <serial>', 'the certificate’s serial')
    .addOption(outputOption())
    .action((options, command) =>
      withSession(command, io, exit, options.output, async (session) => {
        let serial = options.serial;
        if (serial === undefined) {
          const { loadCertificate } = await import('../gateway.js');
          const { certificateFacts } = await import('../../x509/index.js');
          const local = await loadCertificate(await pathsOf(command, io), session.key.address);
          if (!local.ok) return local;
          const facts = certificateFacts(local.value.cert);
          if (!facts.ok) return facts;
          serial = facts.value.serial;
        }
        const revoked = await session.ledger.revokeCertificate({ owner: session.key.address, serial });
        if (!revoked.ok) return revoked;
        const data = { owner: revoked.value.owner, serial: revoked.value.serial, state: revoked.value.state };
        return ok({ data, human: () => `revoked certificate ${data.serial} of ${data.owner}\n` });
      }),
    );
}
