/**
 * The JSON Patch (RFC 6902) that adds the leased-IP variables to a pod: to every container and init
 * container, each variable the container does not define itself, placed before the container's own
 * variables so that these can refer to them (`$(AKASH_LEASED_IP_WEB)`); and an annotation on the pod
 * recording the list it was given. Pure: no I/O.
 */
import { z } from 'zod';
import { type LeasedIpVariables, LIST_VARIABLE } from './variables.js';

/** The annotation that records, on an admitted pod, the `AKASH_LEASED_IPS` value it was given. */
export const INJECTED_ANNOTATION = 'akash-ip.akash.network/leased-ips';

export type PatchOperation = { readonly op: 'add'; readonly path: string; readonly value: unknown };

const envVarSchema = z.looseObject({ name: z.string() });
const containerSchema = z.looseObject({ env: z.array(envVarSchema).nullish() });

/** The parts of a pod the webhook reads; everything else passes through untouched. */
export const podSchema = z.looseObject({
  metadata: z
    .looseObject({
      labels: z.record(z.string(), z.string()).nullish(),
      annotations: z.record(z.string(), z.string()).nullish(),
    })
    .nullish(),
  spec: z.looseObject({
    containers: z.array(containerSchema),
    initContainers: z.array(containerSchema).nullish(),
  }),
});
export type Pod = z.infer<typeof podSchema>;

/** RFC 6901: `~` as `~0`, `/` as `~1`. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function containerOps(
  kind: 'containers' | 'initContainers',
  containers: Pod['spec']['containers'],
  variables: LeasedIpVariables,
): PatchOperation[] {
  const ops: PatchOperation[] = [];
  containers.forEach((container, index) => {
    const own = new Set((container.env ?? []).map((entry) => entry.name));
    const missing = Object.entries(variables)
      .filter(([name]) => !own.has(name))
      .map(([name, value]) => ({ name, value }));
    if (missing.length === 0) return;
    const env = `/spec/${kind}/${index}/env`;
    if (container.env === undefined || container.env === null) {
      ops.push({ op: 'add', path: env, value: missing });
      return;
    }
    missing.forEach((entry, at) => {
      ops.push({ op: 'add', path: `${env}/${at}`, value: entry });
    });
  });
  return ops;
}

/** The patch for the pod; empty when every container already defines every variable. */
export function envPatch(pod: Pod, variables: LeasedIpVariables): readonly PatchOperation[] {
  const ops = [
    ...containerOps('initContainers', pod.spec.initContainers ?? [], variables),
    ...containerOps('containers', pod.spec.containers, variables),
  ];
  const list = variables[LIST_VARIABLE];
  if (ops.length === 0 || list === undefined) return ops;
  if (pod.metadata === undefined || pod.metadata === null) {
    ops.push({ op: 'add', path: '/metadata', value: { annotations: { [INJECTED_ANNOTATION]: list } } });
  } else if (pod.metadata.annotations === undefined || pod.metadata.annotations === null) {
    ops.push({ op: 'add', path: '/metadata/annotations', value: { [INJECTED_ANNOTATION]: list } });
  } else {
    ops.push({ op: 'add', path: `/metadata/annotations/${pointerToken(INJECTED_ANNOTATION)}`, value: list });
  }
  return ops;
}
