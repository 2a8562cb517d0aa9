/**
 * How the tenant reaches a provider's gateway over HTTPS, verifying it as Akash's Go client does before a byte of
 * the request (its token included) is sent: a certificate the system's roots (or `--ca`) vouch for, for the host
 * dialled; otherwise a self-signed certificate whose CN is the provider's `akash1` address and which is the one
 * that address published on the ledger (or the one pinned with `--provider-cert`). TLS 1.3 at least; with mTLS
 * the tenant's certificate is presented and the server name is `mtls.<host>`, as chain-sdk's client sets it.
 */
import { X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type TLSSocket } from 'node:tls';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { certificateFacts, verifyPeerCertificate } from '../x509/index.js';

/** What the server's certificate is checked against. */
export interface ProviderTrust {
  /** The provider's account address: the CN its self-signed certificate must carry. */
  readonly provider: string;
  /** The certificates the provider published (valid ones), when a ledger is at hand. */
  readonly published?: (owner: string) => Promise<Result<readonly { readonly cert: string }[], AppError>>;
  /** A PEM certificate the server must present exactly (`--provider-cert`). */
  readonly pinned?: string;
  /** PEM CA certificate(s) for ordinary PKI instead of the system's roots (`--ca`). */
  readonly ca?: string;
  /** mTLS: the tenant's certificate and key (PEM); no token is sent then. */
  readonly client?: { readonly cert: string; readonly key: string };
}

/** A `fetch` for the provider client: HTTPS verified per {@link ProviderTrust}; plain HTTP as it is. */
export type ProviderFetch = (url: string, init: RequestInit) => Promise<Response>;

function untrusted(message: string, reason: string): { readonly ok: false; readonly error: AppError } {
  return fail(appError('PROVIDER_UNTRUSTED', message, { reason }));
}

/** Decides whether the connected server is the provider; the socket's certificate is the one to judge. */
async function verifyServer(socket: TLSSocket, host: string, trust: ProviderTrust): Promise<Result<void>> {
  const peer = socket.getPeerX509Certificate();
  if (peer === undefined) return untrusted('the provider presented no certificate', 'no-certificate');
  // ordinary PKI first: a chain to a trusted root (or --ca) naming the host dialled
  if (socket.authorized && checkServerIdentity(host, socket.getPeerCertificate()) === undefined)
    return ok(undefined);
  const facts = certificateFacts(peer);
  if (!facts.ok) return untrusted(facts.error.message, 'unparsable');
  if (facts.value.commonName !== trust.provider) {
    return untrusted(
      `the server's certificate names ${facts.value.commonName || 'no akash1 address'}, not provider ${trust.provider}`,
      'wrong-cn',
    );
  }
  let published: { readonly cert: string } | undefined;
  if (trust.pinned !== undefined) {
    let pinned: X509Certificate;
    try {
      pinned = new X509Certificate(trust.pinned);
    } catch {
      return fail(appError('INVALID_INPUT', 'the pinned provider certificate is not a PEM certificate'));
    }
    if (!pinned.raw.equals(peer.raw)) {
      return untrusted("the server's certificate is not the pinned one", 'not-pinned');
    }
    published = { cert: trust.pinned };
  } else if (trust.published !== undefined) {
    const listed = await trust.published(trust.provider);
    if (!listed.ok) return listed;
    published = listed.value.find((cert) => {
      const candidate = certificateFacts(cert.cert);
      return candidate.ok && candidate.value.serial === facts.value.serial;
    });
  } else {
    return untrusted(
      `the server's certificate is self-signed and there is no ledger to check it against: pin it with --provider-cert or give its CA with --ca`,
      'no-trust-anchor',
    );
  }
  const verified = verifyPeerCertificate(facts.value, published, 'serverAuth', new Date());
  if (!verified.ok) {
    const reason = String(verified.error.details?.reason ?? 'invalid');
    return untrusted(
      `provider ${trust.provider}'s certificate is refused: ${verified.error.message}`,
      reason,
    );
  }
  return ok(undefined);
}

/** Opens a TLS connection to `url`'s host and resolves once the server is verified (or refused). */
function open(url: URL, trust: ProviderTrust, signal: AbortSignal | undefined): Promise<Result<TLSSocket>> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const servername = trust.client !== undefined ? `mtls.${host}` : isIP(host) === 0 ? host : undefined;
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: url.port === '' ? 443 : Number(url.port),
      minVersion: 'TLSv1.3',
      rejectUnauthorized: false,
      ...(servername === undefined ? {} : { servername }),
      ...(trust.ca === undefined ? {} : { ca: trust.ca }),
      ...(trust.client === undefined ? {} : { cert: trust.client.cert, key: trust.client.key }),
    });
    const abort = () => socket.destroy(new Error('timed out'));
    signal?.addEventListener('abort', abort, { once: true });
    socket.once('error', (error) => {
      signal?.removeEventListener('abort', abort);
      resolve(fail(appError('UNAVAILABLE', `cannot reach the provider at ${url.origin}: ${error.message}`)));
    });
    socket.once('secureConnect', () => {
      void verifyServer(socket, host, trust).then((verified) => {
        signal?.removeEventListener('abort', abort);
        if (verified.ok) return resolve(ok(socket));
        socket.destroy();
        resolve(verified);
      });
    });
  });
}

/** Sends one request over an already verified socket and reads the whole answer. */
function exchange(socket: TLSSocket, url: URL, init: RequestInit): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers = new Headers(init.headers);
    const request = httpRequest(
      {
        method: init.method ?? 'GET',
        path: url.pathname + url.search,
        headers: { ...Object.fromEntries(headers), host: url.host, connection: 'close' },
        createConnection: () => socket,
        signal: init.signal ?? undefined,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 502;
          const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          const answer = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value === 'string') answer.set(name, value);
          }
          resolve(new Response(body, { status, headers: answer }));
        });
      },
    );
    request.on('error', reject);
    request.end(typeof init.body === 'string' ? init.body : undefined);
  });
}

/** A fetch that verifies an HTTPS provider per `trust` before sending anything; an http URL goes as it is. */
export function providerFetch(trust: ProviderTrust): ProviderFetch {
  return async (target, init) => {
    const url = new URL(target);
    if (url.protocol !== 'https:') return fetch(target, init);
    const socket = await open(url, trust, init.signal ?? undefined);
    if (!socket.ok) throw new ProviderTransportError(socket.error);
    return exchange(socket.value, url, init);
  };
}

/** A refusal of the transport, carried through fetch's exception path to the client, which returns it as is. */
export class ProviderTransportError extends Error {
  constructor(readonly error: AppError) {
    super(error.message);
  }
}
