/**
 * The console's HTTP server (hono on node:http, 127.0.0.1 only): the page and its bundle from
 * `dist/console`, and the JSON API: the provider view over a {@link ProviderSource} (provider-api.ts), and for a
 * tenant the deploy and leases views over its session (tenant-routes.ts). `akash-ip console` and `npm start`
 * serve both for a devnet tenant; the provider daemon serves the provider view alone for its operator. Every
 * request must name the console's own host; every API request carries the run's token (cookie or header) and
 * no foreign Origin; every state change comes from the console's own origin with a JSON body (see security.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { errorResponse } from '../market/index.js';
import type { Session } from '../tenant/index.js';
import type { ExampleJson, SessionJson, ViewName } from './api-types.js';
import { devnetProviders } from './devnet-providers.js';
import { PoolHistory } from './history.js';
import { addProviderRoutes, type ProviderSource, startSampler } from './provider-api.js';
import {
  cookieName,
  hostAllowed,
  newToken,
  originAllowed,
  readCookie,
  TOKEN_HEADER,
  tokenMatches,
} from './security.js';
import { addTenantRoutes } from './tenant-routes.js';

/** Default sampling of the pools for the chart. */
export const DEFAULT_SAMPLE_MS = 3000;
/** An SDL is at most 1 MiB; its JSON envelope a little more. */
const MAX_BODY_BYTES = 2 << 20;

/** The examples the editor offers, from the repository's `examples/`. */
const EXAMPLES: readonly { readonly id: string; readonly file: string; readonly title: string }[] = [
  { id: 'ip-lease', file: 'ip-lease.yaml', title: 'Hello world: nginx on its own IP' },
  { id: 'two-services', file: 'ip-lease-two-services.yaml', title: 'Two services on one IP endpoint' },
  { id: 'tcp-udp', file: 'ip-lease-tcp-udp.yaml', title: 'TCP and UDP on one IP' },
];

/**
 * Who the console serves: a tenant (the deploy and leases views, and the provider view of the session's devnet
 * providers), or a provider's operator (the provider view alone, from `providers`: what the daemon serves).
 */
export type ConsoleSubject =
  | { readonly session: Session; readonly providers?: undefined }
  | { readonly session?: undefined; readonly providers: ProviderSource; readonly provider: string };

export type ConsoleOptions = ConsoleSubject & {
  /** 0: any free port. */
  readonly port?: number;
  /** Pool sampling interval for the chart. */
  readonly sampleMs?: number;
  /** The token; a fresh random one by default. */
  readonly token?: string;
  /** Where a request that failed with a bug is told; the process's stderr by default. */
  readonly logError?: (error: Error) => void;
};

export interface RunningConsole {
  /** `http://127.0.0.1:PORT/?token=…`: what to open. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** The repository root, found from this module whether it runs built (dist/) or from source. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'examples'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

interface Assets {
  readonly html: string;
  readonly files: ReadonlyMap<string, { readonly body: string; readonly type: string }>;
}

async function loadAssets(root: string): Promise<Result<Assets, AppError>> {
  const folder = join(root, 'dist', 'console');
  try {
    const [html, js, css] = await Promise.all(
      ['index.html', 'app.js', 'app.css'].map((name) => readFile(join(folder, name), 'utf8')),
    );
    return ok({
      html: html ?? '',
      files: new Map([
        ['/assets/app.js', { body: js ?? '', type: 'text/javascript; charset=utf-8' }],
        ['/assets/app.css', { body: css ?? '', type: 'text/css; charset=utf-8' }],
      ]),
    });
  } catch {
    return fail(
      appError('UNAVAILABLE', `the console's page is not built in ${folder}: run \`npm run build\``),
    );
  }
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

/** What `GET /api/session` tells the page: who the console acts for, and so which views it shows. */
function sessionJson(subject: ConsoleSubject, sampleMs: number): SessionJson {
  if (subject.session === undefined) {
    return { views: ['provider'], provider: subject.provider, sampleMs };
  }
  const { session } = subject;
  const views: ViewName[] = ['deploy', 'leases', 'provider'];
  return {
    views,
    tenant: { address: session.key.address, key: session.key.name, ledger: session.ledgerUrl },
    sampleMs,
  };
}

/** Builds the console's app; `port` is the one it listens on (for the Host and Origin checks). */
export function createConsoleApp(options: {
  readonly subject: ConsoleSubject;
  /** Where the provider view reads (for a tenant: the session's devnet providers). */
  readonly providers: ProviderSource;
  readonly assets: Assets;
  readonly examples: readonly ExampleJson[];
  readonly history: PoolHistory;
  readonly token: string;
  readonly port: () => number;
  readonly sampleMs: number;
  /** Where a request that failed with a bug is told. */
  readonly logError: (error: Error) => void;
}): Hono {
  const { subject, token } = options;
  const app = new Hono();
  const denied = (c: Context, message: string) => errorResponse(c, appError('FORBIDDEN', message));

  app.use('*', async (c, next) => {
    const port = options.port();
    if (!hostAllowed(c.req.header('host'), port)) {
      return denied(c, `the console answers only to 127.0.0.1:${port} and localhost:${port}`);
    }
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
  });
  app.use('/api/*', async (c, next) => {
    const port = options.port();
    const given = c.req.header(TOKEN_HEADER) ?? readCookie(c.req.header('cookie'), cookieName(port));
    if (!tokenMatches(given, token)) {
      return denied(c, 'no valid console token: open the URL with ?token= that the console printed');
    }
    // a browser names the page's origin on every cross-origin request, reads included: another site's page is
    // refused even when the person's browser holds the cookie
    const origin = c.req.header('origin');
    if (origin !== undefined && !originAllowed(origin, port)) {
      return denied(c, 'the console answers only its own page (Origin)');
    }
    if (c.req.method !== 'GET') {
      if (origin === undefined) {
        return denied(c, 'a state change must come from the console page itself (Origin)');
      }
      if (!(c.req.header('content-type') ?? '').startsWith('application/json')) {
        return errorResponse(c, appError('INVALID_INPUT', 'the request body must be application/json'));
      }
    }
    await next();
  });
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        errorResponse(
          c,
          appError('PAYLOAD_TOO_LARGE', `the request body is larger than ${MAX_BODY_BYTES} bytes`),
        ),
    }),
  );
  // a bug's text goes to the console's own output, never to the page
  app.onError((error, c) => {
    options.logError(error);
    return errorResponse(c, appError('INTERNAL', 'the console failed on this request; its output says why'));
  });
  app.notFound((c) => errorResponse(c, appError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)));

  app.get('/', (c) => {
    const port = options.port();
    const query = c.req.query('token');
    if (query !== undefined) {
      if (!tokenMatches(query, token)) return denied(c, 'wrong console token');
      // the token moves to a cookie and leaves the address bar (and the history) at once
      c.header('set-cookie', `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`);
      return c.redirect('/', 303);
    }
    if (!tokenMatches(readCookie(c.req.header('cookie'), cookieName(port)), token)) {
      return c.html(
        '<!doctype html><title>akash-ip console</title><p>Open the console with the URL it printed (with <code>?token=</code>).</p>',
        403,
      );
    }
    return c.html(options.assets.html);
  });
  app.get('/assets/:name', (c) => {
    const file = options.assets.files.get(c.req.path);
    return file === undefined
      ? errorResponse(c, appError('NOT_FOUND', `no asset ${c.req.path}`))
      : c.body(file.body, 200, { 'content-type': file.type });
  });

  app.get('/api/session', (c) => c.json(sessionJson(subject, options.sampleMs)));
  addProviderRoutes(app, options.providers, options.history);
  if (subject.session !== undefined) addTenantRoutes(app, subject.session, options.examples);
  return app;
}

async function loadExamples(root: string): Promise<ExampleJson[]> {
  const out: ExampleJson[] = [];
  for (const example of EXAMPLES) {
    const path = join(root, 'examples', example.file);
    if (existsSync(path))
      out.push({ id: example.id, title: example.title, text: await readFile(path, 'utf8') });
  }
  return out;
}

/** Starts the console on 127.0.0.1 for its tenant or its provider's operator, with its pool sampler. */
export async function startConsole(options: ConsoleOptions): Promise<Result<RunningConsole, AppError>> {
  const root = repositoryRoot();
  const assets = await loadAssets(root);
  if (!assets.ok) return assets;
  const token = options.token ?? newToken();
  const sampleMs = options.sampleMs ?? DEFAULT_SAMPLE_MS;
  const history = new PoolHistory();
  let port = 0;
  const providers = options.session === undefined ? options.providers : devnetProviders(options.session);
  const app = createConsoleApp({
    subject: options,
    providers,
    assets: assets.value,
    examples: options.session === undefined ? [] : await loadExamples(root),
    history,
    token,
    port: () => port,
    sampleMs,
    logError:
      options.logError ?? ((error) => process.stderr.write(`console: ${error.stack ?? error.message}\n`)),
  });
  const server: Server = createServer({ headersTimeout: 10_000 }, getRequestListener(app.fetch));
  const listening = await new Promise<Result<number, AppError>>((resolve) => {
    server.once('error', (error) =>
      resolve(
        fail(
          appError(
            'UNAVAILABLE',
            `the console cannot listen on 127.0.0.1:${options.port ?? 0}: ${error.message}`,
          ),
        ),
      ),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.address();
      resolve(ok(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  if (!listening.ok) return listening;
  port = listening.value;
  const sampler = startSampler(providers, history, sampleMs);
  return ok({
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    async close() {
      sampler.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
