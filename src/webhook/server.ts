/**
 * The webhook's HTTPS server: `POST /mutate` takes an AdmissionReview and answers one; `GET /healthz`
 * answers 200. TLS 1.2 or later only. The serving certificate is swapped in place
 * ({@link WebhookServer.setCertificate}), so a rotation needs no restart. A request body is bounded and a
 * review that takes longer than the handler timeout is answered "allowed, unchanged": the apiserver's own
 * timeout would otherwise drop the answer after the tenant already waited for it.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { allowed, type LeasedIpLookup, type ReviewOutcome, review, reviewUid } from './review.js';

/** A PEM certificate (chain) and its key. */
export interface ServingCertificate {
  readonly cert: string;
  readonly key: string;
}

/** Called once per review: what became of it and how long it took. */
export type ReviewObserver = (outcome: ReviewOutcome, seconds: number) => void;

export interface WebhookServerOptions {
  readonly certificate: ServingCertificate;
  readonly lookup: LeasedIpLookup;
  /** Default 2 000: below the configuration's `timeoutSeconds` (3), so the apiserver gets our answer. */
  readonly handlerTimeoutMs?: number;
  /** Default 1 MiB: far above any pod a tenant can create through the Akash provider. */
  readonly maxBodyBytes?: number;
  readonly onReview?: ReviewObserver;
}

export interface WebhookServer {
  /** Listens on the address (default 127.0.0.1) and port (0: a free one). */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Serves this certificate to new connections from now on. */
  setCertificate(certificate: ServingCertificate): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

export const MUTATE_PATH = '/mutate';
const DEFAULT_TIMEOUT_MS = 2_000;
const DEFAULT_MAX_BODY = 1 << 20;

function send(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}

/** The body, or `undefined` when it grew past the limit (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? '0') > limit) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  const timeoutMs = options.handlerTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const observe = options.onReview ?? (() => {});

  async function mutate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const done = (outcome: ReviewOutcome): void =>
      observe(outcome, Number(process.hrtime.bigint() - started) / 1e9);
    const body = await readBody(req, limit);
    if (body === undefined) {
      // No uid can be echoed without reading the body; the apiserver applies failurePolicy Ignore.
      // The unread rest of the body dies with the connection, closed once the answer is out.
      send(res, 413, { message: `an AdmissionReview is at most ${limit} bytes` }, true);
      res.once('finish', () => req.destroy());
      done('malformed');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      send(res, 400, { message: 'the body is not JSON' });
      done('malformed');
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const decision = await Promise.race([review(parsed, options.lookup), timedOut]);
    clearTimeout(timer);
    if (decision === 'timeout') {
      // reviewUid is set here: a review without one is decided at once, never by the lookup.
      send(res, 200, allowed(reviewUid(parsed) ?? ''));
      done('timeout');
      return;
    }
    if (decision.answer === undefined)
      send(res, 400, { message: 'not an admission.k8s.io/v1 AdmissionReview' });
    else send(res, 200, decision.answer);
    done(decision.outcome);
  }

  const server: Server = createServer(
    { cert: options.certificate.cert, key: options.certificate.key, minVersion: 'TLSv1.2' },
    (req, res) => {
      const path = new URL(req.url ?? '/', 'https://webhook').pathname;
      if (path === MUTATE_PATH && req.method === 'POST') {
        mutate(req, res).catch(() => {
          if (!res.headersSent) send(res, 500, { message: 'the review failed' });
        });
      } else if (path === '/healthz' && req.method === 'GET') {
        send(res, 200, { ok: true });
      } else {
        send(res, 404, { message: `no ${req.method} ${path}` });
      }
    },
  );
  // A slow client must not hold a socket open for long: reviews are small and the apiserver is close.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;

  return {
    async listen(port = 0, host = '127.0.0.1') {
      server.listen(port, host);
      await once(server, 'listening');
      return server.address() as AddressInfo;
    },
    setCertificate(certificate) {
      server.setSecureContext({ cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' });
    },
    async close() {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
