/**
 * Typed verbs over the {@link KubeGateway}: every object that comes back is parsed with its zod schema,
 * and an answer the server refuses becomes `K8S_REJECTED` carrying the HTTP status and the server's reason.
 */
import type { z } from 'zod';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { KubeGateway, KubeMethod, KubeResponse } from './gateway.js';
import { listSchema, statusSchema } from './schemas.js';

/** An object of a list that did not parse; reported, never acted on. */
export interface MalformedObject {
  readonly path: string;
  readonly name: string;
  readonly problem: string;
}

export interface Listed<T> {
  readonly items: readonly T[];
  readonly malformed: readonly MalformedObject[];
}

/** List pages: big enough that a provider's objects take few round trips, small enough to bound memory. */
const PAGE = '500';
/** Retries of an answer 429, 0.1 s doubling: 6.3 s in all. */
const RETRIES_429 = 6;

/** The first few problems zod found in an object read from the cluster, for refusals and reports. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

function nameOf(value: unknown): string {
  if (typeof value !== 'object' || value === null) return '?';
  const metadata = (value as { metadata?: { name?: unknown } }).metadata;
  return typeof metadata?.name === 'string' ? metadata.name : '?';
}

/** The HTTP status of a `K8S_REJECTED` error, if it is one. */
export function rejectedStatus(error: AppError): number | undefined {
  return error.code === 'K8S_REJECTED' && typeof error.details?.status === 'number'
    ? error.details.status
    : undefined;
}

export class KubeClient {
  readonly #gateway: KubeGateway;

  constructor(gateway: KubeGateway) {
    this.#gateway = gateway;
  }

  async #call(
    method: KubeMethod,
    path: string,
    options: { readonly query?: Record<string, string>; readonly body?: unknown } = {},
  ): Promise<Result<KubeResponse>> {
    let answer = await this.#gateway.request({ method, path, ...options });
    // 429 is the server asking to come back (a CRD's storage still starting, overload): retry as client-go does.
    for (let attempt = 0; attempt < RETRIES_429 && answer.ok && answer.value.status === 429; attempt++) {
      await new Promise((done) => setTimeout(done, 100 * 2 ** attempt));
      answer = await this.#gateway.request({ method, path, ...options });
    }
    if (!answer.ok || answer.value.status < 400) return answer;
    const status = statusSchema.safeParse(answer.value.body);
    const reason = status.success ? (status.data.reason ?? '') : '';
    const message = status.success ? (status.data.message ?? '') : 'no Status body';
    return fail(
      appError(
        'K8S_REJECTED',
        `kube-apiserver refused ${method} ${path}: HTTP ${answer.value.status} ${message}`,
        {
          status: answer.value.status,
          reason,
        },
      ),
    );
  }

  #parse<T>(schema: z.ZodType<T>, path: string, body: unknown): Result<T> {
    const parsed = schema.safeParse(body);
    if (parsed.success) return ok(parsed.data);
    return fail(
      appError(
        'K8S_MALFORMED',
        `${path}: the object read back does not parse: ${describeIssues(parsed.error.issues)}`,
      ),
    );
  }

  /** The object, or `undefined` when it does not exist. */
  async get<T>(schema: z.ZodType<T>, path: string): Promise<Result<T | undefined>> {
    const answer = await this.#call('GET', path);
    if (!answer.ok) return rejectedStatus(answer.error) === 404 ? ok(undefined) : answer;
    return this.#parse(schema, path, answer.value.body);
  }

  /** Every object of a collection (all pages) matching the selectors. */
  async list<T>(
    schema: z.ZodType<T>,
    path: string,
    labelSelector: string,
    fieldSelector?: string,
  ): Promise<Result<Listed<T>>> {
    const items: T[] = [];
    const malformed: MalformedObject[] = [];
    let next: string | undefined;
    do {
      const query: Record<string, string> = { labelSelector, limit: PAGE };
      if (fieldSelector !== undefined) query.fieldSelector = fieldSelector;
      if (next !== undefined) query.continue = next;
      const answer = await this.#call('GET', path, { query });
      if (!answer.ok) return answer;
      const page = this.#parse(listSchema, path, answer.value.body);
      if (!page.ok) return page;
      for (const raw of page.value.items) {
        const parsed = schema.safeParse(raw);
        if (parsed.success) items.push(parsed.data);
        else malformed.push({ path, name: nameOf(raw), problem: describeIssues(parsed.error.issues) });
      }
      next = page.value.metadata?.continue || undefined;
    } while (next !== undefined);
    return ok({ items, malformed });
  }

  async create<T>(schema: z.ZodType<T>, path: string, body: unknown): Promise<Result<T>> {
    const answer = await this.#call('POST', path, { body });
    return answer.ok ? this.#parse(schema, path, answer.value.body) : answer;
  }

  /** JSON merge patch. */
  async patch<T>(schema: z.ZodType<T>, path: string, body: unknown): Promise<Result<T>> {
    const answer = await this.#call('PATCH', path, { body });
    return answer.ok ? this.#parse(schema, path, answer.value.body) : answer;
  }

  /**
   * Deletes the object if it is still the one with this uid (a recreated namesake survives).
   * `false` when it was already gone.
   */
  async delete(path: string, uid: string): Promise<Result<boolean>> {
    const answer = await this.#call('DELETE', path, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid } },
    });
    if (answer.ok) return ok(true);
    return rejectedStatus(answer.error) === 404 ? ok(false) : answer;
  }
}
