/**
 * The tenant's side of any Akash provider's gateway, reached by URL (`--provider-url https://host:8443`) rather
 * than through the devnet: the tenant's key for JWTs (`--auth-type jwt`, the default) or its certificate for mTLS
 * (`--auth-type mtls`), and the server checked as Akash's Go client checks it (provider-transport.ts). Also where
 * the tenant's account certificates are kept: `<home>/certs/<address>.pem`, certificate and key in one file (0600),
 * as `provider-services` keeps `<address>.pem`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { Key } from '../identity/index.js';
import { isAddress } from '../identity/index.js';
import { LedgerClient } from '../market/index.js';
import { type Paths, readDevnetFile } from '../tenant/home.js';
import { ProviderClient } from '../tenant/provider-client.js';
import { type ProviderTrust, providerFetch } from '../tenant/provider-transport.js';
import { findKey } from '../tenant/session.js';

/** How to reach and trust a provider given by URL. */
export interface GatewayFlags {
  readonly providerUrl: string;
  /** The provider's akash1 address: the CN its certificate must carry. */
  readonly provider: string | undefined;
  readonly authType: 'jwt' | 'mtls';
  /** A PEM file with the certificate the provider must present. */
  readonly providerCert?: string | undefined;
  /** A PEM file with the CA(s) that vouch for the provider's certificate. */
  readonly ca?: string | undefined;
}

/** `<home>/certs/<address>.pem`: the account's certificate and private key. */
export function certificateFileOf(paths: Paths, address: string): string {
  return join(dirname(paths.keyring), 'certs', `${address}.pem`);
}

/** Writes an account's certificate and key, private to its owner. */
export async function saveCertificate(
  paths: Paths,
  address: string,
  cert: string,
  key: string,
): Promise<Result<string, AppError>> {
  const file = certificateFileOf(paths, address);
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, `${cert}${key}`, { mode: 0o600 });
    return ok(file);
  } catch (error) {
    return fail(appError('UNAVAILABLE', `cannot write ${file}: ${(error as Error).message}`));
  }
}

/** The account's certificate and key, from {@link certificateFileOf}. */
export async function loadCertificate(
  paths: Paths,
  address: string,
): Promise<Result<{ readonly cert: string; readonly key: string }, AppError>> {
  const file = certificateFileOf(paths, address);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return fail(
      appError(
        'NOT_FOUND',
        `no certificate for ${address} in ${file}: create and publish one with \`akash-ip cert create client\``,
      ),
    );
  }
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  const key = /-----BEGIN (?:EC )?PRIVATE KEY-----[\s\S]+?-----END (?:EC )?PRIVATE KEY-----\n?/.exec(
    text,
  )?.[0];
  if (cert === undefined || key === undefined) {
    return fail(appError('INVALID_INPUT', `${file} does not hold a certificate and its private key`));
  }
  return ok({ cert, key });
}

async function readPem(file: string, what: string): Promise<Result<string, AppError>> {
  try {
    return ok(await readFile(file, 'utf8'));
  } catch (error) {
    return fail(appError('INVALID_INPUT', `cannot read ${what} ${file}: ${(error as Error).message}`));
  }
}

/** The ledger to check certificates against: `--ledger`, else a running devnet's; none is fine. */
async function ledgerOf(paths: Paths, ledgerUrl: string | undefined): Promise<LedgerClient | undefined> {
  if (ledgerUrl !== undefined) return new LedgerClient({ url: ledgerUrl });
  const devnet = await readDevnetFile(paths.data);
  return devnet.ok && devnet.value.pid !== null
    ? new LedgerClient({ url: devnet.value.ledger.url })
    : undefined;
}

/**
 * A client of the provider at `flags.providerUrl`, as the tenant `from` (default key "tenant"): its JWTs, or its
 * certificate with mTLS; the server trusted only as {@link ProviderTrust} says.
 */
export async function gatewayClient(
  paths: Paths,
  from: string,
  ledgerUrl: string | undefined,
  flags: GatewayFlags,
): Promise<Result<{ readonly client: ProviderClient; readonly key: Key }, AppError>> {
  const provider = flags.provider;
  if (provider === undefined || !isAddress(provider)) {
    return fail(
      appError(
        'USAGE',
        '--provider-url needs --provider <akash1 address>: the provider whose certificate the server must present',
      ),
    );
  }
  const found = await findKey(paths, from);
  if (!found.ok) return found;
  const key = found.value.key;
  let trust: ProviderTrust = { provider };
  if (flags.providerCert !== undefined) {
    const pinned = await readPem(flags.providerCert, 'the provider certificate');
    if (!pinned.ok) return pinned;
    trust = { ...trust, pinned: pinned.value };
  }
  if (flags.ca !== undefined) {
    const ca = await readPem(flags.ca, 'the CA file');
    if (!ca.ok) return ca;
    trust = { ...trust, ca: ca.value };
  }
  const ledger = await ledgerOf(paths, ledgerUrl);
  if (ledger !== undefined) {
    trust = { ...trust, published: (owner) => ledger.listCertificates({ owner, state: 'valid' }) };
  }
  if (flags.authType === 'mtls') {
    const client = await loadCertificate(paths, key.address);
    if (!client.ok) return client;
    trust = { ...trust, client: client.value };
  }
  return ok({
    key,
    client: new ProviderClient({
      url: flags.providerUrl,
      signer: { privateKey: key.privateKey, address: key.address },
      fetch: providerFetch(trust),
      auth: flags.authType,
    }),
  });
}
