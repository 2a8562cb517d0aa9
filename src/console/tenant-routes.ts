/**
 * The tenant views' routes on the console's app (behind its token, Host and Origin checks): examples,
 * deployments, deploy with its stream of bids and the person's pick, update, migrate, close.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { DSEQ_RULE, isDseq } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { errorResponse } from '../market/index.js';
import type { Session } from '../tenant/index.js';
import type { DeployEventJson, ExampleJson } from './api-types.js';
import {
  type Choice,
  closeDeployment,
  deployWithEvents,
  listDeployments,
  migrateEndpoints,
  sdlFromText,
  updateDeployment,
} from './tenant-api.js';

/** How long a deployment waits for the person to pick a bid before it is closed. */
const CHOICE_TIMEOUT_MS = 10 * 60_000;

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
const updateSchema = z.strictObject({
  dseq,
  sdl: z.string().max(1 << 20),
  release: z.array(z.string().min(1).max(64)).max(1024).optional(),
});
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

export function addTenantRoutes(app: Hono, session: Session, examples: readonly ExampleJson[]): void {
  const jobs = new Map<string, (choice: Choice) => void>();
  const answer = <T>(c: Context, result: Result<T, AppError>) =>
    result.ok ? c.json(result.value as object) : errorResponse(c, result.error);

  app.get('/api/examples', (c) => c.json(examples));
  app.get('/api/deployments', async (c) => answer(c, await listDeployments(session)));

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
      ? answer(c, await updateDeployment(session, body.value.dseq, body.value.sdl, body.value.release))
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
}
