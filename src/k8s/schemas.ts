/**
 * zod schemas of every object the backend reads back from the API server. Only the fields the backend
 * uses are declared; the rest is stripped, so a newer server adding fields changes nothing.
 */
import { z } from 'zod';
import { DSEQ_RULE, isDseq } from '../akash-id/index.js';

const stringMap = z.record(z.string(), z.string());

export const metadataSchema = z.object({
  name: z.string().min(1),
  namespace: z.string().optional(),
  uid: z.string().min(1),
  resourceVersion: z.string().min(1),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  deletionTimestamp: z.string().optional(),
});
export type ObjectMeta = z.infer<typeof metadataSchema>;

/** A `Status` error body; loose, since a proxy in front of the server may answer anything. */
export const statusSchema = z.object({
  kind: z.literal('Status'),
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
});

const protocolSchema = z.enum(['TCP', 'UDP', 'SCTP']);

export const serviceSchema = z.object({
  metadata: metadataSchema.extend({ namespace: z.string().min(1) }),
  spec: z.object({
    type: z.string().optional(),
    ports: z
      .array(
        z.object({
          name: z.string().optional(),
          port: z.number().int(),
          protocol: protocolSchema.default('TCP'),
          targetPort: z.union([z.number().int(), z.string()]).optional(),
        }),
      )
      .default([]),
    selector: stringMap.optional(),
    loadBalancerIP: z.string().optional(),
    ipFamilies: z.array(z.string()).nullish(),
    allocateLoadBalancerNodePorts: z.boolean().optional(),
  }),
  status: z
    .object({
      loadBalancer: z
        .object({ ingress: z.array(z.object({ ip: z.string().optional() })).nullish() })
        .optional(),
    })
    .optional(),
});
export type ServiceObject = z.infer<typeof serviceSchema>;

const leaseIdSchema = z.object({
  owner: z.string().min(1),
  dseq: z.string().refine(isDseq, DSEQ_RULE),
  gseq: z.number().int().nonnegative(),
  oseq: z.number().int().nonnegative(),
  provider: z.string().min(1),
});

/**
 * `ProviderLeasedIP` spec: the Go provider's fields (snake case) plus `endpoint` and `address`, which ours
 * adds. A Go-written object lacks those two and is reported as foreign, not realized.
 */
export const leasedIpSchema = z.object({
  metadata: metadataSchema,
  spec: z.object({
    lease_id: leaseIdSchema,
    service_name: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    external_port: z.number().int().min(1).max(65535),
    protocol: z.enum(['TCP', 'UDP']),
    sharing_key: z.string().min(1),
    endpoint: z.string().min(1).optional(),
    address: z.string().min(1).optional(),
  }),
});
export type LeasedIpObject = z.infer<typeof leasedIpSchema>;

export const ipAddressPoolSchema = z.object({
  metadata: metadataSchema,
  spec: z.object({
    addresses: z.array(z.string()).default([]),
    autoAssign: z.boolean().optional(),
    avoidBuggyIPs: z.boolean().optional(),
  }),
});
export type IpAddressPoolObject = z.infer<typeof ipAddressPoolSchema>;

/** A NetworkPolicy; its spec is kept whole (unknown), since it is compared with the one we would write. */
export const networkPolicySchema = z.object({
  metadata: metadataSchema.extend({ namespace: z.string().min(1) }),
  spec: z.unknown(),
});
export type NetworkPolicyObject = z.infer<typeof networkPolicySchema>;

export const crdSchema = z.object({
  metadata: metadataSchema,
  spec: z.object({
    versions: z.array(
      z.object({
        name: z.string(),
        served: z.boolean(),
        storage: z.boolean(),
        schema: z.unknown().optional(),
      }),
    ),
  }),
  status: z
    .object({
      conditions: z.array(z.object({ type: z.string(), status: z.string() })).nullish(),
    })
    .optional(),
});
export type CrdObject = z.infer<typeof crdSchema>;

/** A list answer; items are parsed one by one so one bad object is reported, not fatal. */
export const listSchema = z.object({
  metadata: z.object({ continue: z.string().optional(), resourceVersion: z.string().optional() }).optional(),
  items: z.array(z.unknown()),
});

/** A core Event; MetalLB reports why it could not assign an address as one on the Service. */
export const eventSchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  involvedObject: z
    .object({ name: z.string().optional(), namespace: z.string().optional(), uid: z.string().optional() })
    .optional(),
  type: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTimestamp: z.string().nullish(),
  eventTime: z.string().nullish(),
});
