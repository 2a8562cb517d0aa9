/**
 * Ordering. The Go provider creates a lease's workloads before it declares their IP endpoints, so the
 * first pods of a lease start before their address exists and never get it from the webhook. Two
 * answers: a check telling, per lease, whether its running pods carry the current addresses (for
 * `lease-status` and the operator's `/state`), and an opt-in, off by default, that rolls the lease's
 * workloads once, as `kubectl rollout restart` does, so their new pods are admitted with the address.
 */
import { z } from 'zod';
import { type AppError, ok, type Result } from '../errors/index.js';
import { type KubeClient, metadataSchema } from '../k8s/index.js';
import { type LeasedIpLookup, MANIFEST_SERVICE_LABEL } from './review.js';
import { VARIABLE_PREFIX } from './variables.js';

/** The annotation a rolled workload keeps, so it is rolled once only; its value is when. */
export const ROLLED_ANNOTATION = 'akash-ip.akash.network/rolled-for-leased-ips';
/** What `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

const containerSchema = z.object({
  name: z.string(),
  env: z.array(z.object({ name: z.string(), value: z.string().optional() })).nullish(),
});
const podSchema = z.object({
  metadata: metadataSchema,
  spec: z.object({
    containers: z.array(containerSchema),
    initContainers: z.array(containerSchema).nullish(),
  }),
});

/**
 * One pod against the current variables of its service. `current`: every container has every variable
 * with its current value. `missing`: some variable is absent (a pod admitted before the address existed).
 * `stale`: some variable has another value, or the service no longer has it (an address that moved away,
 * a migration's source, until the pod restarts; or a value the container set itself).
 */
export interface PodAddressState {
  readonly pod: string;
  readonly service: string;
  readonly state: 'current' | 'missing' | 'stale';
  /** The variables absent from, or different in, at least one container. */
  readonly missing: readonly string[];
  readonly differing: readonly string[];
}

export interface LeasePodsReport {
  /** Every pod of a service with IP endpoints carries its current addresses (true when there is none). */
  readonly current: boolean;
  readonly pods: readonly PodAddressState[];
}

const podsPath = (namespace: string) => `/api/v1/namespaces/${namespace}/pods`;

/** Lists the lease namespace's pods that have a manifest service and compares their variables. */
export async function checkLeasePods(
  client: KubeClient,
  namespace: string,
  lookup: LeasedIpLookup,
): Promise<Result<LeasePodsReport, AppError>> {
  const listed = await client.list(podSchema, podsPath(namespace), MANIFEST_SERVICE_LABEL);
  if (!listed.ok) return listed;
  const pods: PodAddressState[] = [];
  for (const pod of listed.value.items) {
    if (pod.metadata.deletionTimestamp !== undefined) continue;
    const service = pod.metadata.labels?.[MANIFEST_SERVICE_LABEL] ?? '';
    const expected = (await lookup(namespace, service)) ?? {};
    const missing = new Set<string>();
    const differing = new Set<string>();
    for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      const env = new Map((container.env ?? []).map((entry) => [entry.name, entry.value] as const));
      for (const [name, value] of Object.entries(expected)) {
        if (!env.has(name)) missing.add(name);
        else if (env.get(name) !== value) differing.add(name);
      }
      // A variable of ours the service no longer has: an address that moved away (a migration's source).
      for (const name of env.keys())
        if (name.startsWith(VARIABLE_PREFIX) && !(name in expected)) differing.add(name);
    }
    // A pod with nothing to carry and carrying nothing is no concern of this report.
    if (Object.keys(expected).length === 0 && differing.size === 0) continue;
    const state = differing.size > 0 ? 'stale' : missing.size > 0 ? 'missing' : 'current';
    pods.push({ pod: pod.metadata.name, service, state, missing: [...missing], differing: [...differing] });
  }
  return ok({ current: pods.every((pod) => pod.state === 'current'), pods });
}

const workloadSchema = z.object({ metadata: metadataSchema });
const WORKLOADS = [
  ['deployments', '/apis/apps/v1/namespaces/%/deployments'],
  ['statefulsets', '/apis/apps/v1/namespaces/%/statefulsets'],
] as const;

export interface RolloutOptions {
  /** The provider's opt-in; without it nothing is ever restarted. */
  readonly enabled: boolean;
  readonly now?: () => Date;
}

export interface RolloutResult {
  /** `kind/name` of each workload whose pod template was changed. */
  readonly rolled: readonly string[];
  /** Workloads left alone: rolled once before. */
  readonly alreadyRolled: readonly string[];
}

/**
 * Rolls, once, the lease's Deployments and StatefulSets whose pods do not carry the current addresses:
 * their pod template gets `kubectl.kubernetes.io/restartedAt`, and the workload {@link ROLLED_ANNOTATION}
 * (both in one merge patch), so a later call never rolls it again. Call it when the lease's first address
 * is confirmed. Disabled: no request at all.
 */
export async function rollOnce(
  client: KubeClient,
  namespace: string,
  lookup: LeasedIpLookup,
  options: RolloutOptions,
): Promise<Result<RolloutResult, AppError>> {
  if (!options.enabled) return ok({ rolled: [], alreadyRolled: [] });
  const report = await checkLeasePods(client, namespace, lookup);
  if (!report.ok) return report;
  const stale = new Set(report.value.pods.filter((pod) => pod.state !== 'current').map((pod) => pod.service));
  const rolled: string[] = [];
  const alreadyRolled: string[] = [];
  const at = (options.now ?? (() => new Date()))().toISOString();
  for (const [kind, template] of WORKLOADS) {
    const path = template.replace('%', namespace);
    const listed = await client.list(workloadSchema, path, MANIFEST_SERVICE_LABEL);
    if (!listed.ok) return listed;
    for (const workload of listed.value.items) {
      const service = workload.metadata.labels?.[MANIFEST_SERVICE_LABEL] ?? '';
      if (!stale.has(service)) continue;
      const name = `${kind}/${workload.metadata.name}`;
      if (workload.metadata.annotations?.[ROLLED_ANNOTATION] !== undefined) {
        alreadyRolled.push(name);
        continue;
      }
      const patched = await client.patch(workloadSchema, `${path}/${workload.metadata.name}`, {
        metadata: { annotations: { [ROLLED_ANNOTATION]: at } },
        spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: at } } } },
      });
      if (!patched.ok) return patched;
      rolled.push(name);
    }
  }
  return ok({ rolled, alreadyRolled });
}
