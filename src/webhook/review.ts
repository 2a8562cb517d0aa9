/**
 * One admission decision: an `admission.k8s.io/v1` AdmissionReview in, the AdmissionReview to answer
 * out. The answer always allows the pod: at most it carries a patch. Anything the webhook does not
 * recognise (another resource or operation, a namespace that is no lease, a pod without the manifest
 * service label, a service without IP endpoints, a malformed object) is allowed as it is.
 */
import { z } from 'zod';
import { envPatch, podSchema } from './patch.js';
import type { LeasedIpVariables } from './variables.js';

/** The Akash label that names a pod's manifest service. */
export const MANIFEST_SERVICE_LABEL = 'akash.network/manifest-service';

/**
 * Where the variables come from: the variables for a pod of this manifest service in this namespace, or
 * `undefined` when the namespace is no lease of this provider or the service has no IP endpoint. Each
 * mode supplies its own (the daemon: {@link engineLookup} over the lease engine).
 */
export type LeasedIpLookup = (
  namespace: string,
  service: string,
) => LeasedIpVariables | undefined | Promise<LeasedIpVariables | undefined>;

/**
 * What became of one review. `injected`: a patch was sent. `unchanged`: a lease pod whose containers
 * already define every variable, or whose endpoints have no address yet. `skipped`: not a pod of a lease
 * with IP endpoints. `malformed`: a review or pod that does not parse. `error`: the lookup failed.
 * `timeout`: the lookup did not answer within the server's handler timeout. All of them allow the pod.
 */
export type ReviewOutcome = 'injected' | 'unchanged' | 'skipped' | 'malformed' | 'error' | 'timeout';

const reviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.looseObject({
    uid: z.string().min(1),
    kind: z.looseObject({ group: z.string(), version: z.string(), kind: z.string() }),
    namespace: z.string().optional(),
    operation: z.string(),
    object: z.unknown().optional(),
  }),
});

/** The review's uid, when it has one: the answer must echo it. */
export function reviewUid(body: unknown): string | undefined {
  const parsed = reviewSchema.shape.request
    .pick({ uid: true })
    .safeParse(
      typeof body === 'object' && body !== null ? (body as { request?: unknown }).request : undefined,
    );
  return parsed.success ? parsed.data.uid : undefined;
}

/** An answer allowing the request, with a JSON patch when there is one. */
export function allowed(uid: string, patch?: readonly unknown[]): unknown {
  const response =
    patch === undefined || patch.length === 0
      ? { uid, allowed: true }
      : {
          uid,
          allowed: true,
          patchType: 'JSONPatch',
          patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
        };
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export interface Decision {
  readonly outcome: ReviewOutcome;
  /** The AdmissionReview to answer with; `undefined` when the review had no uid to echo. */
  readonly answer: unknown;
}

/** Decides one review. */
export async function review(body: unknown, lookup: LeasedIpLookup): Promise<Decision> {
  const parsed = reviewSchema.safeParse(body);
  if (!parsed.success) {
    const uid = reviewUid(body);
    return { outcome: 'malformed', answer: uid === undefined ? undefined : allowed(uid) };
  }
  const request = parsed.data.request;
  const skip = { outcome: 'skipped', answer: allowed(request.uid) } as const;
  const isPod = request.kind.group === '' && request.kind.version === 'v1' && request.kind.kind === 'Pod';
  if (!isPod || request.operation !== 'CREATE' || request.namespace === undefined) return skip;
  const pod = podSchema.safeParse(request.object);
  if (!pod.success) return { outcome: 'malformed', answer: allowed(request.uid) };
  const service = pod.data.metadata?.labels?.[MANIFEST_SERVICE_LABEL];
  if (service === undefined) return skip;
  let variables: LeasedIpVariables | undefined;
  try {
    variables = await lookup(request.namespace, service);
  } catch {
    // A failing lookup must not cost the tenant the pod; the outcome counts it.
    return { outcome: 'error', answer: allowed(request.uid) };
  }
  if (variables === undefined) return skip;
  const patch = envPatch(pod.data, variables);
  return {
    outcome: patch.length === 0 ? 'unchanged' : 'injected',
    answer: allowed(request.uid, patch),
  };
}
