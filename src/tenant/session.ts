/**
 * What a tenant command connects to: the ledger (from `--ledger`, else the devnet's `devnet.json`), the
 * tenant's key (`--from`, looked up in the home keyring, then in the devnet's own keyring), and the
 * providers (by devnet name or address), each reached with the tenant's signed tokens.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { getKey, isAddress, type Key } from '../identity/index.js';
import { LedgerClient, type Provider } from '../market/index.js';
import { type DevnetFile, devnetKeyring, type Paths, readDevnetFile, resolvePaths } from './home.js';
import { ProviderClient } from './provider-client.js';
import { providerFetch } from './provider-transport.js';

/** The options every tenant command takes. */
export interface ConnectionOptions {
  readonly home?: string | undefined;
  readonly data?: string | undefined;
  readonly ledger?: string | undefined;
  readonly from?: string | undefined;
}

/** The key tenant commands use when `--from` is not given: the one the devnet creates and funds. */
export const DEFAULT_TENANT_KEY = 'tenant';

/** A connected tenant. */
export interface Session {
  readonly paths: Paths;
  /** The devnet's file, when the ledger came from one. */
  readonly devnet: DevnetFile | undefined;
  readonly ledgerUrl: string;
  readonly key: Key;
  readonly ledger: LedgerClient;
  /** The devnet's name for a provider address (`provider-1`), else a shortened address. */
  providerLabel(address: string): string;
  /** Resolves `--provider`: a devnet provider name or an account address. */
  resolveProvider(nameOrAddress: string): Result<string, AppError>;
  /** The provider's registered record (its host URI and attributes). */
  provider(address: string): Promise<Result<Provider, AppError>>;
  /** A client of the provider's daemon, authenticated as this tenant. */
  providerClient(address: string): Promise<Result<ProviderClient, AppError>>;
}

/** A key and the keyring it was found in. */
export interface FoundKey {
  readonly key: Key;
  readonly keyring: 'home' | 'devnet';
}

/** Finds a key by name: the home keyring first, then the devnet's. */
export async function findKey(paths: Paths, name: string): Promise<Result<FoundKey, AppError>> {
  const own = await getKey(paths.keyring, name);
  if (own.ok) return ok({ key: own.value, keyring: 'home' });
  if (own.error.code !== 'NOT_FOUND') return own;
  const devnet = await getKey(devnetKeyring(paths.data), name);
  if (devnet.ok) return ok({ key: devnet.value, keyring: 'devnet' });
  if (devnet.error.code !== 'NOT_FOUND') return devnet;
  return fail(
    appError(
      'NOT_FOUND',
      `no key "${name}" in ${paths.keyring} or ${devnetKeyring(paths.data)}: create it with \`akash-ip keys add ${name}\` and fund it with \`akash-ip fund ${name}\``,
    ),
  );
}

/** Connects a tenant command: paths, devnet file, ledger client and key. */
export async function openSession(
  options: ConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<Result<Session, AppError>> {
  const paths = resolvePaths(options, env, cwd);
  let devnet: DevnetFile | undefined;
  let ledgerUrl = options.ledger;
  if (ledgerUrl === undefined) {
    const file = await readDevnetFile(paths.data);
    if (!file.ok) return file;
    devnet = file.value;
    if (devnet.pid === null) {
      return fail(
        appError(
          'UNAVAILABLE',
          `the devnet in ${paths.data} is stopped: start it with \`akash-ip devnet --data ${paths.data}\``,
        ),
      );
    }
    ledgerUrl = devnet.ledger.url;
  }
  const found = await findKey(paths, options.from ?? DEFAULT_TENANT_KEY);
  if (!found.ok) return found;
  const key = found.value.key;
  const ledger = explained(
    new LedgerClient({
      url: ledgerUrl,
      keys: [key.privateKey],
      ...(devnet === undefined ? {} : { adminToken: devnet.ledger.adminToken }),
    }),
    ledgerUrl,
  );
  const names = new Map((devnet?.providers ?? []).map((p) => [p.address, p.name] as const));
  const byName = new Map((devnet?.providers ?? []).map((p) => [p.name, p.address] as const));
  const session: Session = {
    paths,
    devnet,
    ledgerUrl,
    key,
    ledger,
    providerLabel: (address) => names.get(address) ?? address,
    resolveProvider(text) {
      const address = byName.get(text) ?? text;
      if (isAddress(address)) return ok(address);
      const known = [...byName.keys()];
      return fail(
        appError(
          'INVALID_INPUT',
          `--provider "${text}" is neither an akash1 address nor a devnet provider${known.length === 0 ? '' : ` (${known.join(', ')})`}`,
        ),
      );
    },
    provider: (address) => ledger.getProvider(address),
    async providerClient(address) {
      const found = await session.provider(address);
      if (!found.ok) return found;
      return ok(
        new ProviderClient({
          url: found.value.hostUri,
          signer: { privateKey: key.privateKey, address: key.address },
          // an https provider must present the certificate its address published on this ledger
          fetch: providerFetch({
            provider: address,
            published: (owner) => ledger.listCertificates({ owner, state: 'valid' }),
          }),
        }),
      );
    },
  };
  return ok(session);
}

/** The ledger client, with every UNAVAILABLE answer saying which ledger did not answer and how to start it. */
function explained(client: LedgerClient, url: string): LedgerClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = (await value.apply(target, args)) as Result<unknown, AppError>;
        if (result.ok || result.error.code !== 'UNAVAILABLE') return result;
        return fail(
          appError(
            'UNAVAILABLE',
            `no ledger answers at ${url} (${result.error.message}); start the devnet with \`akash-ip devnet\` or \`npm start\``,
          ),
        );
      };
    },
  });
}
