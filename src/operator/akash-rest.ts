/**
 * The one chain read of operator mode: a deployment's groups from the Akash REST (LCD) API the provider
 * already uses, `GET /akash/deployment/v1beta4/deployments/info?id.owner=…&id.dseq=…`
 * (chain-sdk `akash.deployment.v1beta4.Query/Deployment`). The answer's groups carry `id.gseq` and
 * `group_spec.requirements.attributes` (key/value pairs); only those are read, the rest may be anything.
 */
import { z } from 'zod';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { describeIssues } from '../k8s/index.js';
import type { Attribute } from '../sdl/index.js';

/** The most of an answer read: a deployment's info is a few KiB; anything near this is not a deployment. */
export const MAX_ANSWER_BYTES = 4 << 20;

/** The route, relative to the REST base URL. */
export const DEPLOYMENT_INFO_PATH = '/akash/deployment/v1beta4/deployments/info';

const requirements = z.object({
  requirements: z.object({
    attributes: z.array(z.object({ key: z.string(), value: z.string() })).nullish(),
  }),
});

const groupSchema = z.object({
  // uint32 in the proto: a JSON number from the gateway; a decimal string is taken too.
  id: z.object({
    gseq: z.union([
      z.number().int().min(1),
      z
        .string()
        .regex(/^[1-9]\d*$/)
        .transform(Number),
    ]),
  }),
  // The gateway writes proto field names (`group_spec`); Go's JSON tags name it `spec`.
  group_spec: requirements.optional(),
  spec: requirements.optional(),
});

const infoSchema = z.object({ groups: z.array(groupSchema) });

/** The URL of one deployment's info. */
export function deploymentInfoUrl(base: string, owner: string, dseq: string): string {
  const query = new URLSearchParams({ 'id.owner': owner, 'id.dseq': dseq });
  return `${base.replace(/\/+$/, '')}${DEPLOYMENT_INFO_PATH}?${query}`;
}

/** The body as text, or undefined once it passes `limit` bytes (the rest is not read). */
async function boundedText(response: Response, limit: number): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
}

/** Group sequence → its required placement attributes, for one deployment. */
export async function readDeploymentGroups(
  base: string,
  owner: string,
  dseq: string,
  timeoutMs: number,
  /** Aborts the read (the operator stopping). */
  cancel?: AbortSignal,
): Promise<Result<ReadonlyMap<number, readonly Attribute[]>, AppError>> {
  let response: Response;
  try {
    response = await fetch(deploymentInfoUrl(base, owner, dseq), {
      headers: { accept: 'application/json' },
      signal:
        cancel === undefined
          ? AbortSignal.timeout(timeoutMs)
          : AbortSignal.any([AbortSignal.timeout(timeoutMs), cancel]),
    });
  } catch (error) {
    const why =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer in ${timeoutMs} ms`
        : 'unreachable';
    return fail(appError('UNAVAILABLE', `the Akash REST API at ${base} is ${why}`));
  }
  const text = await boundedText(response, MAX_ANSWER_BYTES).catch(() => '');
  if (text === undefined) {
    return fail(
      appError(
        'UNAVAILABLE',
        `the Akash REST API's answer for ${owner}/${dseq} is larger than ${MAX_ANSWER_BYTES} bytes`,
      ),
    );
  }
  if (response.status === 404 || response.status === 400) {
    return fail(
      appError(
        'DEPLOYMENT_NOT_FOUND',
        `deployment ${owner}/${dseq} is not on chain (HTTP ${response.status})`,
      ),
    );
  }
  if (!response.ok) {
    return fail(
      appError('UNAVAILABLE', `the Akash REST API answered HTTP ${response.status} for ${owner}/${dseq}`),
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(appError('UNAVAILABLE', `the Akash REST API answered no JSON for ${owner}/${dseq}`));
  }
  const parsed = infoSchema.safeParse(json);
  if (!parsed.success) {
    return fail(
      appError(
        'UNAVAILABLE',
        `deployment ${owner}/${dseq} from the Akash REST API: ${describeIssues(parsed.error.issues)}`,
      ),
    );
  }
  const groups = new Map<number, readonly Attribute[]>();
  for (const group of parsed.data.groups) {
    const spec = group.group_spec ?? group.spec;
    groups.set(group.id.gseq, Object.freeze([...(spec?.requirements.attributes ?? [])]));
  }
  return ok(groups);
}
