/**
 * The daemon's console for its operator: the web console's provider view (src/console) over this daemon's own
 * engine — pools with their history, who holds each address and the audit trail, the bid engine's decisions
 * with their reasons, the Kubernetes sync — on its own listener on 127.0.0.1, behind the console's per-run
 * token, Host and Origin checks. Tenants reach the gateway's listener, which has no console route, and a
 * tenant's JWT opens nothing here. The URL with the token is written `0600` to `console.urlFile` and removed
 * at stop; the log names the file, never the token. run.ts loads this module only when the console is on.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { AUDIT_SHOWN, decisionJson, type ProviderSource, poolJson, startConsole } from '../console/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { DecisionRecord } from '../market/index.js';
import type { ClusterSync } from './cluster-sync.js';
import type { ConsoleConfig } from './config.js';
import type { Logger } from './logger.js';
import type { Readiness } from './readiness.js';
import type { ProviderService } from './service.js';

/** What the console reads of the daemon; the same objects the gateway's app reads. */
export interface DaemonConsoleDeps {
  readonly provider: string;
  /** The gateway's URL, shown beside the provider's address. */
  readonly url: string;
  readonly readiness: Readiness;
  /** Undefined until the state is rebuilt. */
  readonly service: () => ProviderService | undefined;
  /** The Kubernetes backend's sync, when one is configured. */
  readonly cluster: () => Pick<ClusterSync, 'summary'> | undefined;
  readonly decisions: () => readonly DecisionRecord[];
}

/** The provider view of this daemon alone; another provider's address is not found here. */
export function daemonProviderSource(deps: DaemonConsoleDeps): ProviderSource {
  const ready = (): Result<ProviderService, AppError> => {
    const service = deps.readiness.ready ? deps.service() : undefined;
    return service === undefined
      ? fail(
          appError(
            'NOT_READY',
            deps.readiness.reason ?? 'the provider is rebuilding its state; retry shortly',
          ),
        )
      : ok(service);
  };
  const ours = (address: string): Result<ProviderService, AppError> =>
    address === deps.provider
      ? ready()
      : fail(appError('NOT_FOUND', `this console shows provider ${deps.provider} alone, not ${address}`));
  return {
    async providers() {
      const service = ready();
      if (!service.ok) return service;
      const pools = service.value.engine
        .inventory()
        .pools.map((pool) => poolJson({ ...pool, name: pool.pool }));
      const kubernetes = deps.cluster()?.summary();
      return ok([
        {
          address: deps.provider,
          label: deps.provider,
          url: deps.url,
          pools,
          ...(kubernetes === undefined ? {} : { kubernetes }),
        },
      ]);
    },
    async audit(address) {
      const service = ours(address);
      return service.ok ? service.value.recentAudit(AUDIT_SHOWN) : service;
    },
    async decisions(address) {
      const service = ours(address);
      return service.ok ? ok([...deps.decisions()].reverse().map(decisionJson)) : service;
    },
  };
}

/** Writes `text` to `path` readable by its owner alone, replacing a file an earlier run left in one step. */
async function writePrivate(path: string, text: string): Promise<Result<void, AppError>> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
    await rename(temporary, path);
    return ok(undefined);
  } catch (error) {
    await rm(temporary, { force: true });
    return fail(
      appError('UNAVAILABLE', `cannot write the console's URL to ${path}: ${(error as Error).message}`),
    );
  }
}

/**
 * Serves the console on `127.0.0.1:config.port` and writes its URL to `config.urlFile`; `stop()` closes it and
 * removes the file (its token dies with the run).
 */
export async function startDaemonConsole(
  config: ConsoleConfig,
  deps: DaemonConsoleDeps,
  logger: Logger,
): Promise<Result<{ stop(): Promise<void> }, AppError>> {
  const started = await startConsole({
    providers: daemonProviderSource(deps),
    provider: deps.provider,
    port: config.port,
    sampleMs: config.sampleMs,
    logError: (error) =>
      logger.log('error', 'the console failed on a request', { error: error.stack ?? error.message }),
  });
  if (!started.ok) return started;
  const running = started.value;
  const written = await writePrivate(config.urlFile, `${running.url}\n`);
  if (!written.ok) {
    await running.close();
    return written;
  }
  logger.log('info', 'console', { url: `http://127.0.0.1:${running.port}/`, urlFile: config.urlFile });
  return ok({
    async stop() {
      await running.close();
      await rm(config.urlFile, { force: true });
    },
  });
}
