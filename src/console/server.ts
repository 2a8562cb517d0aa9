/**
 * The console's HTTP server (hono on node:http, 127.0.0.1 only): the page and its bundle from
 * `dist/console`, and the JSON API over the tenant's session. Every request must name the console's own
 * host; every API request carries the run's token (cookie or header); every state change comes from the
 * console's own origin with a JSON body (see security.ts).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { DSEQ_RULE, isDseq } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { errorResponse } from '../market/index.js';
import type { Session } from '../tenant/index.js';
import type { DeployEventJson, ExampleJson, SessionJson } from './api-types.js';
import { PoolHistory } from './history.js';
import { listProviders, providerAudit, providerDecisions, startSampler } from './provider-api.js';
import {
  cookieName,
  hostAllowed,
  newToken,
  originAllowed,
  readCookie,
  TOKEN_HEADER,
  tokenMatches,
} from './security.js';
import {
  type Choice,
  closeDeployment,
  deployWithEvents,
  listDeployments,
  migrateEndpoints,
  sdlFromText,
  updateDeployment,
} from './tenant-api.js';

/** Default sampling of the pools for the chart. */
export const DEFAULT_SAMPLE_MS = 3000;
/** An SDL is at most 1 MiB; its JSON envelope a little more. */
const MAX_BODY_BYTES = 2 << 20;
/** How long a deployment waits for the person to pick a bid before it is closed. */
const CHOICE_TIMEOUT_MS = 10 * 60_000;

/** The examples the editor offers, from the repository's `examples/`. */
const EXAMPLES: readonly { readonly id: string; readonly file: string; readonly title: string }[] = [
  { id: 'ip-lease', file: 'ip-lease.yaml', title: 'Hello world: nginx on its own IP' },
  { id: 'two-services', file: 'ip-lease-two-services.yaml', title: 'Two services on one IP endpoint' },
  { id: 'tcp-udp', file: 'ip-lease-tcp-udp.yaml', title: 'TCP and UDP on one IP' },
];

export interface ConsoleOptions {
  readonly session: Session;
  /** 0: any free port. */
  readonly port?: number;
  /** Pool sampling interval for the chart. */
  readonly sampleMs?: number;
  /** The token; a fresh random one by default. */
  readonly token?: string;
}

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

const deploySchema = z.strictObject({
  sdl: z.string().max(1 << 20),
  pick: z.union([z.enum(['ask', 'cheapest']), z.strictObject({ provider: z.string().max(100) })]),
});
const chooseSchema = z.union([
  z.strictObject({ provider: z.string().max(100) }),
  z.strictObject({ pick: z.literal('cheapest') }),
  z.strictObject({ cancel: z.literal(true) }),
]);
const dseq = z.string().refine(isDseq, DSEQ_RULE);
const updateSchema = z.strictObject({ dseq, sdl: z.string().max(1 << 20), yes: z.boolean().optional() });
const migrateSchema = z.strictObject({
  dseq,
  sourceDseq: dseq.optional(),
  endpoints: z.array(z.string().min(1).max(253)).min(1).max(64),
  dryRun: z.boolean(),
});
const closeSchema = z.strictObject({ dseq });

async function parseBody<T>(c: Context, schema: z.ZodType<T>): Promise<Result<T, AppError>> {
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch {
    return fail(appError('INVALID_INPUT', 'the request body is not JSON'));
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0];
  return fail(
    appError('INVALID_INPUT', `invalid request at ${issue?.path.join('.') || 'body'}: ${issue?.message}`),
  );
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

/** Builds the console's app; `port` is the one it listens on (for the Host and Origin checks). */
export function createConsoleApp(options: {
  readonly session: Session;
  readonly assets: Assets;
  readonly examples: readonly ExampleJson[];
  readonly history: PoolHistory;
  readonly token: string;
  readonly port: () => number;
  readonly sampleMs: number;
  /** Where a request that failed with a bug is told. */
  readonly logError: (error: Error) => void;
}): Hono {
  const { session, token } = options;
  const app = new Hono();
  const jobs = new Map<string, (choice: Choice) => void>();
  const denied = (c: Context, message: string) => errorResponse(c, appError('FORBIDDEN', message));
  const answer = <T>(c: Context, result: Result<T, AppError>) =>
    result.ok ? c.json(result.value as object) : errorResponse(c, result.error);

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
    if (c.req.method !== 'GET') {
      if (!originAllowed(c.req.header('origin'), port)) {
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

  app.get('/api/session', (c) => {
    const body: SessionJson = {
      tenant: session.key.address,
      key: session.key.name,
      ledger: session.ledgerUrl,
      sampleMs: options.sampleMs,
    };
    return c.json(body);
  });
  app.get('/api/examples', (c) => c.json(options.examples));
  app.get('/api/deployments', async (c) => answer(c, await listDeployments(session)));
  app.get('/api/providers', async (c) => {
    const providers = await listProviders(session);
    return providers.ok
      ? c.json({ providers: providers.value, history: options.history.list() })
      : errorResponse(c, providers.error);
  });
  app.get('/api/providers/:address/audit', async (c) =>
    answer(c, await providerAudit(session, c.req.param('address'))),
  );

  app.get('/api/providers/:address/decisions', async (c) =>
    answer(c, await providerDecisions(session, c.req.param('address'))),
  );

  app.post('/api/deploy', async (c) => {
    const body = await parseBody(c, deploySchema);
    if (!body.ok) return errorResponse(c, body.error);
    const sdl = sdlFromText(body.value.sdl);
    if (!sdl.ok) return errorResponse(c, sdl.error);
    const job = randomUUID();
    return streamSSE(c, async (stream) => {
      let sending = Promise.resolve();
      const emit = (event: DeployEventJson) => {
        sending = sending.then(() => stream.writeSSE({ data: JSON.stringify(event) }));
      };
      let timer: NodeJS.Timeout | undefined;
      const choose = () =>
        new Promise<Choice>((resolve) => {
          jobs.set(job, resolve);
          timer = setTimeout(() => resolve({ cancel: true }), CHOICE_TIMEOUT_MS);
        });
      // a page that goes away while bids wait gets its deployment closed, not left open and paying
      stream.onAbort(() => jobs.get(job)?.({ cancel: true }));
      emit({ type: 'job', job });
      try {
        await deployWithEvents(session, sdl.value, body.value.pick, emit, choose);
      } finally {
        jobs.delete(job);
        if (timer !== undefined) clearTimeout(timer);
      }
      await sending;
    });
  });
  app.post('/api/deploy/:job/choose', async (c) => {
    const body = await parseBody(c, chooseSchema);
    if (!body.ok) return errorResponse(c, body.error);
    const resolve = jobs.get(c.req.param('job'));
    if (resolve === undefined) {
      return errorResponse(
        c,
        appError('NOT_FOUND', 'no deployment is waiting for a bid choice under that id'),
      );
    }
    jobs.delete(c.req.param('job'));
    resolve(body.value);
    return c.json({ ok: true });
  });
  app.post('/api/update', async (c) => {
    const body = await parseBody(c, updateSchema);
    return body.ok
      ? answer(c, await updateDeployment(session, body.value.dseq, body.value.sdl, body.value.yes === true))
      : errorResponse(c, body.error);
  });
  app.post('/api/migrate', async (c) => {
    const body = await parseBody(c, migrateSchema);
    return body.ok ? answer(c, await migrateEndpoints(session, body.value)) : errorResponse(c, body.error);
  });
  app.post('/api/close', async (c) => {
    const body = await parseBody(c, closeSchema);
    return body.ok
      ? answer(c, await closeDeployment(session, body.value.dseq))
      : errorResponse(c, body.error);
  });
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

/** Starts the console on 127.0.0.1 for the session's tenant, with its pool sampler. */
export async function startConsole(options: ConsoleOptions): Promise<Result<RunningConsole, AppError>> {
  const root = repositoryRoot();
  const assets = await loadAssets(root);
  if (!assets.ok) return assets;
  const token = options.token ?? newToken();
  const sampleMs = options.sampleMs ?? DEFAULT_SAMPLE_MS;
  const history = new PoolHistory();
  let port = 0;
  const app = createConsoleApp({
    session: options.session,
    assets: assets.value,
    examples: await loadExamples(root),
    history,
    token,
    port: () => port,
    sampleMs,
    logError: (error) => process.stderr.write(`console: ${error.stack ?? error.message}\n`),
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
  const sampler = startSampler(options.session, history, sampleMs);
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
