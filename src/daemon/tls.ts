/**
 * The gateway's transport, as Akash providers serve it: HTTPS (TLS 1.3 at least) with a self-signed P-256
 * certificate whose CN is the provider's address, created on first start and published on the ledger; and mTLS,
 * where a tenant authenticates with the certificate it published instead of a JWT, which then grants what a
 * `full` JWT grants for that owner (chain-sdk `AuthProcess`).
 */
import type { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { JWT_VERSION, type JwtClaims } from '../identity/index.js';
import type { Certificate, MarketLedger } from '../market/index.js';
import {
  certificateFacts,
  createAccountCertificate,
  publicKeyPem,
  verifyPeerCertificate,
} from '../x509/index.js';
import { BoundedCache } from './bounded-cache.js';
import type { Logger } from './logger.js';

/** Where the gateway's certificate and key live. */
export interface ServerCertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** The gateway's certificate, as node:tls takes it. */
export interface ServerCertificate {
  readonly cert: string;
  readonly key: string;
  readonly serial: string;
  readonly notAfter: Date;
}

/** Validity of a certificate the daemon creates: a year, as `provider-services tx cert generate server`. */
const VALIDITY_MS = 365 * 24 * 3600 * 1000;

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The gateway's certificate: the one in `files` when it is this provider's (CN = `address`) and still valid for a
 * day; otherwise a new one (CN = `address`, the `hosts` as names), written there with the key 0600.
 */
export async function loadOrCreateServerCertificate(
  files: ServerCertificateFiles,
  address: string,
  hosts: readonly string[],
  now: Date,
  logger: Logger,
): Promise<Result<ServerCertificate, AppError>> {
  let cert: string | undefined;
  let key: string | undefined;
  try {
    [cert, key] = await Promise.all([readIfPresent(files.certFile), readIfPresent(files.keyFile)]);
  } catch (error) {
    return fail(appError('UNAVAILABLE', `cannot read the gateway certificate: ${(error as Error).message}`));
  }
  if (cert !== undefined && key !== undefined) {
    const facts = certificateFacts(cert);
    if (!facts.ok) return fail(appError('INVALID_INPUT', `${files.certFile}: ${facts.error.message}`));
    if (facts.value.commonName !== address) {
      return fail(
        appError(
          'INVALID_INPUT',
          `${files.certFile} is the certificate of ${facts.value.commonName}, not of this provider ${address}; ` +
            'move it away to have a new one created',
        ),
      );
    }
    if (facts.value.notAfter.getTime() - now.getTime() > 24 * 3600 * 1000) {
      return ok({ cert, key, serial: facts.value.serial, notAfter: facts.value.notAfter });
    }
    logger.log('warn', 'gateway certificate expires within a day; creating a new one', {
      serial: facts.value.serial,
      notAfter: facts.value.notAfter.toISOString(),
    });
  }
  const made = createAccountCertificate({
    address,
    kind: 'server',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + VALIDITY_MS),
    hosts: [...new Set(hosts)],
  });
  if (!made.ok) return made;
  try {
    await mkdir(dirname(files.certFile), { recursive: true, mode: 0o700 });
    await mkdir(dirname(files.keyFile), { recursive: true, mode: 0o700 });
    await writeFile(files.keyFile, made.value.key, { mode: 0o600 });
    await writeFile(files.certFile, made.value.cert, { mode: 0o644 });
  } catch (error) {
    return fail(appError('UNAVAILABLE', `cannot write the gateway certificate: ${(error as Error).message}`));
  }
  logger.log('info', 'gateway certificate created', { file: files.certFile, serial: made.value.serial });
  return ok({
    cert: made.value.cert,
    key: made.value.key,
    serial: made.value.serial,
    notAfter: made.value.notAfter,
  });
}

/**
 * Publishes the gateway certificate on the ledger (`MsgCreateCertificate`) unless it is there already, so
 * clients can check it as Akash's do. Its public key is the certificate's own.
 */
export async function publishServerCertificate(
  ledger: Pick<MarketLedger, 'listCertificates' | 'createCertificate'>,
  address: string,
  certificate: ServerCertificate,
): Promise<Result<'published' | 'already', AppError>> {
  const listed = await ledger.listCertificates({ owner: address, serial: certificate.serial });
  if (!listed.ok) return listed;
  if (listed.value.some((cert) => cert.state === 'valid')) return ok('already');
  const facts = certificateFacts(certificate.cert);
  if (!facts.ok) return facts;
  const pubkey = publicKeyPem(facts.value.x509.publicKey);
  const created = await ledger.createCertificate({ owner: address, cert: certificate.cert, pubkey });
  return created.ok ? ok('published') : created;
}

/** Finds the valid certificate `owner` published with `serial`, or undefined. */
export type CertificateLookup = (
  owner: string,
  serial: string,
) => Promise<Result<Pick<Certificate, 'cert'> | undefined, AppError>>;

/** A {@link CertificateLookup} on the ledger. */
export function ledgerCertificates(ledger: Pick<MarketLedger, 'listCertificates'>): CertificateLookup {
  return async (owner, serial) => {
    const listed = await ledger.listCertificates({ owner, serial, state: 'valid' });
    return listed.ok ? ok(listed.value[0]) : listed;
  };
}

export interface ClientCertificatesOptions {
  readonly lookup: CertificateLookup;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Ledger answers kept (owner and serial), least recently used dropped first. */
  readonly cacheSize: number;
  /** How long a ledger answer is trusted: a revocation takes at most this long to be seen. */
  readonly cacheMs: number;
}

/** Authenticates tenants by the client certificate of their TLS connection. */
export class ClientCertificates {
  readonly #options: ClientCertificatesOptions;
  readonly #published: BoundedCache<string, Pick<Certificate, 'cert'> | null>;

  constructor(options: ClientCertificatesOptions) {
    this.#options = options;
    this.#published = new BoundedCache(options.cacheSize, options.now);
  }

  /**
   * The claims a valid client certificate grants: its owner, `full` access, for 15 minutes as chain-sdk's
   * `AuthProcess`. UNAUTHENTICATED (with `details.reason`) for one that is not published valid for its CN,
   * expired, not yet valid or not for client use; UNAVAILABLE when the ledger cannot be asked.
   */
  async verify(peer: X509Certificate): Promise<Result<JwtClaims, AppError>> {
    const facts = certificateFacts(peer);
    if (!facts.ok) return fail(appError('UNAUTHENTICATED', facts.error.message, { reason: 'unparsable' }));
    const { commonName: owner, serial } = facts.value;
    const key = `${owner}/${serial}`;
    let published = this.#published.get(key);
    if (published === undefined) {
      const found = await this.#options.lookup(owner, serial);
      if (!found.ok) {
        return fail(appError('UNAVAILABLE', `cannot look up the client certificate: ${found.error.message}`));
      }
      published = found.value ?? null;
      this.#published.set(key, published, this.#options.now() + this.#options.cacheMs);
    }
    const nowMs = this.#options.now();
    const verified = verifyPeerCertificate(
      facts.value,
      published ?? undefined,
      'clientAuth',
      new Date(nowMs),
    );
    if (!verified.ok) return verified;
    const seconds = Math.floor(nowMs / 1000);
    return ok({
      iss: verified.value,
      iat: seconds,
      nbf: seconds,
      exp: seconds + 15 * 60,
      version: JWT_VERSION,
      leases: { access: 'full' },
    });
  }
}

/** The client certificate of a TLS connection, or undefined (plain HTTP, or none presented). */
export function peerCertificateOf(socket: unknown): X509Certificate | undefined {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (tls?.encrypted !== true || typeof tls.getPeerX509Certificate !== 'function') return undefined;
  return tls.getPeerX509Certificate();
}
