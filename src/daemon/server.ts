/**
 * The daemon's HTTP server: Node's http server running the hono app, with a fast lane for the one hot
 * route. A lease-status request whose token is already verified and whose answer is ready is written
 * straight to Node's response, skipping the web Request/Response adapters that cost about a third of
 * the CPU of such a request. Everything else, every refusal included, goes through the app, so the
 * app stays the single source of every error answer.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { TokenVerifier } from './auth.js';
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

/** Listens on `host:port` (0: any free port); resolves with the server and the port bound. */
export function listen(
  listener: RequestListener,
  host: string,
  port: number,
): Promise<Result<{ readonly server: Server; readonly port: number }, AppError>> {
  return new Promise((resolve) => {
    // bounded request reading, unlike Go's gateway and operator, which set no timeouts at all
    const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, listener);
    server.once('error', (error) =>
      resolve(fail(appError('UNAVAILABLE', `cannot listen on ${host}:${port}: ${error.message}`))),
    );
    server.listen(port, host, () => {
      const address = server.address();
      resolve(ok({ server, port: typeof address === 'object' && address !== null ? address.port : port }));
    });
  });
}
