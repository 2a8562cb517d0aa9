/**
 * The daemon's HTTP server: Node's http server running the hono app, with a fast lane for the one hot
 * route. A lease-status request whose token is already verified and whose answer is ready is written
 * straight to Node's response, skipping the web Request/Response adapters that cost about a third of
 * the CPU of such a request. Everything else, every refusal included, goes through the app, so the
 * app stays the single source of every error answer.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { TokenVerifier } from './auth.js';
import type { Logger } from './logger.js';
import type { DaemonMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';
import { type ProviderService, parseLeasePath } from './service.js';

/** What the fast lane reads; the same objects the app was built with. */
export interface FastLaneDeps {
  readonly service: () => ProviderService | undefined;
  readonly readiness: Readiness;
  readonly verifier: TokenVerifier;
  readonly metrics: DaemonMetrics;
}

const STATUS_PATH = /^\/lease\/([0-9]{1,20})\/([0-9]{1,10})\/([0-9]{1,10})\/status$/;
/** The app's route pattern, so both lanes count under one metrics label. */
const STATUS_ROUTE = '/lease/:dseq/:gseq/:oseq/status';

/** The app's request listener behind the lease-status fast lane. */
export function providerListener(app: Hono, lane: FastLaneDeps): RequestListener {
  const viaApp = getRequestListener(app.fetch);
  return (req, res) => {
    if (req.method === 'GET' && lane.readiness.ready) {
      const started = process.hrtime.bigint();
      const path = STATUS_PATH.exec(req.url ?? '');
      const service = path === null ? undefined : lane.service();
      const claims =
        service === undefined ? undefined : lane.verifier.verifyCached(req.headers.authorization);
      if (path !== null && service !== undefined && claims !== undefined) {
        const at = parseLeasePath(path[1] ?? '', path[2] ?? '', path[3] ?? '');
        const status = at.ok ? service.leaseStatus(claims, at.value) : undefined;
        if (status?.ok === true) {
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(status.value),
          });
          res.end(status.value);
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          lane.metrics.requests.observe({ method: 'GET', route: STATUS_ROUTE, status: 200 }, seconds);
          return;
        }
      }
    }
    void viaApp(req, res);
  };
}

/** The answer to a request the server stopped reading because it took too long. */
export const REQUEST_TIMED_OUT = appError('REQUEST_TIMEOUT', 'the request was not received in time');

/** Sockets whose request the server gave up on: the app's read of such a body fails, and is not a bug. */
const timedOutSockets = new WeakSet<object>();

/** Whether the server timed out the request on `socket` (so the failure the app sees is already answered). */
export function timedOut(socket: object | null | undefined): boolean {
  return socket !== null && socket !== undefined && timedOutSockets.has(socket);
}

/** How long a client may take to send a request. */
export interface RequestTimeouts {
  /** Until the headers are in; default 10 s. */
  readonly headersTimeoutMs?: number;
  /** Until the whole request is in; default 30 s. */
  readonly requestTimeoutMs?: number;
}

/** A client that went away: a reset, or the end of its stream in the middle of a request (the app counts those). */
const HUNG_UP: ReadonlySet<string> = new Set(['ECONNRESET', 'HPE_INVALID_EOF_STATE']);

/** Raw HTTP/1.1 replies for the socket-level refusals (no request object exists for them). */
function rawReply(status: string, error: AppError): string {
  const body = JSON.stringify({ error: error.message, code: error.code });
  const head = `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}`;
  return `${head}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Node's socket-level refusals, with what they are counted and logged as: a request the client was too slow to
 * send is a REQUEST_TIMEOUT (408, JSON like every other refusal), a client that hung up is not counted here (the
 * app counts CLIENT_CLOSED for a request it had begun), a request that is not HTTP is INVALID_INPUT. Node's
 * default would count none of them and answer in plain text; the app, reading a timed-out body, would otherwise
 * see a bug.
 */
function watchClientErrors(server: Server, metrics: DaemonMetrics, logger: Logger | undefined): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answerable =
      socket.writable &&
      (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent !== true;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      timedOutSockets.add(socket);
      metrics.errors.inc({ code: REQUEST_TIMED_OUT.code });
      logger?.log('info', 'request timed out', {
        peer: (socket as { remoteAddress?: string }).remoteAddress,
      });
      if (answerable) socket.write(rawReply('408 Request Timeout', REQUEST_TIMED_OUT));
    } else if (!HUNG_UP.has(error.code ?? '')) {
      const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
      const refusal = tooLarge
        ? appError('PAYLOAD_TOO_LARGE', 'the request headers are too large')
        : appError('INVALID_INPUT', 'the request is not valid HTTP');
      metrics.errors.inc({ code: refusal.code });
      if (answerable)
        socket.write(rawReply(tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request', refusal));
    }
    socket.destroy();
  });
}

/** HTTPS as Akash's gateway serves it: this certificate, TLS 1.3 at least, a client certificate asked for. */
export interface GatewayTls {
  readonly cert: string;
  readonly key: string;
}

/**
 * Listens on `host:port` (0: any free port); resolves with the server and the port bound. With `tls`, HTTPS: the
 * handshake asks for a client certificate without requiring one (JWT clients send none; the app checks what
 * mTLS clients send, so a refusal is a JSON answer rather than a failed handshake). Socket-level refusals are
 * counted in `metrics` (see {@link watchClientErrors}).
 */
export function listen(
  listener: RequestListener,
  host: string,
  port: number,
  watch: {
    readonly metrics: DaemonMetrics;
    readonly logger?: Logger;
    readonly tls?: GatewayTls;
  } & RequestTimeouts,
): Promise<Result<{ readonly server: Server; readonly port: number }, AppError>> {
  return new Promise((resolve) => {
    // bounded request reading, unlike Go's gateway and operator, which set no timeouts at all; the deadlines are
    // checked every second (Node's default, 30 s, would let a 30 s limit run to a minute)
    const options = {
      headersTimeout: watch.headersTimeoutMs ?? 10_000,
      requestTimeout: watch.requestTimeoutMs ?? 30_000,
      connectionsCheckingInterval: 1000,
    };
    const server: Server =
      watch.tls === undefined
        ? createServer(options, listener)
        : createTlsServer(
            {
              ...options,
              cert: watch.tls.cert,
              key: watch.tls.key,
              minVersion: 'TLSv1.3',
              requestCert: true,
              rejectUnauthorized: false,
            },
            listener,
          );
    watchClientErrors(server, watch.metrics, watch.logger);
    server.once('error', (error) =>
      resolve(fail(appError('UNAVAILABLE', `cannot listen on ${host}:${port}: ${error.message}`))),
    );
    server.listen(port, host, () => {
      const address = server.address();
      resolve(ok({ server, port: typeof address === 'object' && address !== null ? address.port : port }));
    });
  });
}
