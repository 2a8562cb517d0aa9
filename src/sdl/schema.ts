/**
 * The rules of chain-sdk's SDL input JSON schema, written by hand in zod. Go runs that schema
 * but only logs a failure, so by default these are warnings; `--strict` turns them into errors.
 * The schema sees the YAML as yaml.v3 decodes it into `any` (ints, floats, bools, nulls, strings).
 */
import { z } from 'zod';
import { type Problem, problem } from './diagnostics.js';
import { YScalar, type YValue } from './yaml-value.js';

/** The JSON value yaml.v3 + encoding/json would hand to the schema validator. */
function toPlain(value: YValue): unknown {
  if (value instanceof YScalar) {
    const r = value.resolved;
    if (r.tag === 'null') return null;
    if (r.tag === 'bool') return r.value;
    if (r.tag === 'int') return Number(r.value);
    if (r.tag === 'float') return r.value;
    return value.text;
  }
  if (value instanceof Map) {
    // Null prototype: a key named __proto__ stays an ordinary key.
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, v] of value) out[k] = toPlain(v);
    return out;
  }
  return value.map(toPlain);
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const anyObject = z.custom<object>(isObject, { message: 'must be an object' });

function oneOf(message: string, ...options: [z.ZodTypeAny, z.ZodTypeAny, ...z.ZodTypeAny[]]) {
  return z.union(options, { error: () => message });
}

const portNumber = z
  .number({ error: 'must be an integer' })
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(65535, 'must be at most 65535');
const stringList = z.array(z.string('must be a string'), { error: 'must be a list of strings' });
const stringArrayOrNull = stringList.nullable();
const httpErrorCode = z.enum(['error', 'timeout', '500', '502', '503', '504', '403', '404', '429', 'off'], {
  error: 'must be one of: error, timeout, 500, 502, 503, 504, 403, 404, 429, off',
});

const priceCoin = z.strictObject({
  amount: oneOf(
    'must be a non-negative number or a decimal string',
    z.string().regex(/^[0-9]+(\.[0-9]+)?$/),
    z.number().min(0),
  ),
  denom: z.enum(['uakt', 'uact'], { error: 'must be one of: uakt, uact' }),
});

const truthy = (v: unknown): boolean => v === true || v === 'true';

const storageAttributes = z
  .strictObject({
    class: z.string('must be a string'),
    persistent: oneOf('must be a boolean or a string', z.boolean(), z.string()),
  })
  .superRefine((a, ctx) => {
    if (a.class === 'ram' && truthy(a.persistent)) {
      ctx.addIssue({ code: 'custom', message: 'ram storage must not be persistent', path: ['persistent'] });
    }
    if (['beta1', 'beta2', 'beta3', 'default'].includes(a.class) && !truthy(a.persistent)) {
      ctx.addIssue({
        code: 'custom',
        message: `storage class "${a.class}" requires persistent: true`,
        path: ['persistent'],
      });
    }
  });

const storageVolume = z.strictObject({
  attributes: storageAttributes.optional(),
  name: z.string('must be a string').optional(),
  size: z.string('must be a string such as "1Gi"'),
});

const positiveUnits = (v: unknown): boolean =>
  typeof v === 'number' ? v > 0 : typeof v === 'string' && !/^0+(\.0+)?$/.test(v);

const gpu = z
  .strictObject({
    attributes: z
      .strictObject({
        vendor: z
          .strictObject({
            nvidia: z
              .array(
                z.strictObject({
                  interface: z.enum(['pcie', 'sxm'], { error: 'must be one of: pcie, sxm' }).optional(),
                  model: z.string('must be a string').optional(),
                  ram: z.string('must be a string such as "80Gi"').optional(),
                }),
              )
              .nullable()
              .optional(),
          })
          .refine((v) => Object.keys(v).length >= 1, 'must name a vendor (only nvidia is known)')
          .optional(),
      })
      .optional(),
    units: oneOf('must be a number or a string', z.string(), z.number()).optional(),
  })
  .superRefine((g, ctx) => {
    if (g.units !== undefined && positiveUnits(g.units) && g.attributes === undefined) {
      ctx.addIssue({ code: 'custom', message: 'gpu units > 0 require attributes', path: ['units'] });
    }
    if (g.attributes !== undefined && (g.units === undefined || !positiveUnits(g.units))) {
      ctx.addIssue({ code: 'custom', message: 'gpu attributes require units > 0', path: ['attributes'] });
    }
  });

const cpuUnits = oneOf(
  'must be a positive number or a string such as "100m" or "0.5"',
  z
    .string()
    .regex(/^[0-9]+(\.[0-9]+)?[a-zA-Z]*$/)
    .refine((v) => !/^0+(\.0+)?m?$/.test(v)),
  z.number().gt(0),
);

const computeProfile = z.strictObject({
  resources: z.strictObject({
    cpu: z.strictObject({ attributes: anyObject.optional(), units: cpuUnits }),
    gpu: gpu.optional(),
    memory: z.strictObject({ size: z.string('must be a string such as "512Mi"') }),
    storage: oneOf('must be a storage volume or a list of them', storageVolume, z.array(storageVolume)),
  }),
});

const placementProfile = z.strictObject({
  attributes: anyObject.optional(),
  pricing: z.record(z.string(), priceCoin),
  signedBy: z.strictObject({ allOf: stringList.optional(), anyOf: stringList.optional() }).optional(),
});

const httpOptions = z.strictObject({
  max_body_size: z.number().int().min(0).max(104857600).optional(),
  next_cases: z
    .array(httpErrorCode)
    .refine((cases) => !cases.includes('off') || cases.length === 1, '"off" must be the only next case')
    .optional(),
  next_timeout: z.number().int().min(0).optional(),
  next_tries: z.number().int().min(0).optional(),
  proxy_buffer_size: z.number().int().min(0).max(1048576).optional(),
  read_timeout: z.number().int().min(0).max(60000).optional(),
  send_timeout: z.number().int().min(0).max(60000).optional(),
});

const exposeTo = z
  .strictObject({
    global: z.boolean('must be true or false').optional(),
    ip: z.string('must be a string').min(1, 'must not be empty').optional(),
    service: z.string('must be a string').optional(),
  })
  .superRefine((to, ctx) => {
    if (typeof to.ip === 'string' && to.ip.length > 0 && to.global !== true) {
      ctx.addIssue({
        code: 'custom',
        message: 'if an IP is declared, the directive must be declared as global',
        path: ['global'],
      });
    }
  });

const expose = z.strictObject({
  accept: stringList.optional(),
  as: portNumber.optional(),
  http_options: httpOptions.optional(),
  port: portNumber,
  proto: z.enum(['TCP', 'UDP', 'tcp', 'udp'], { error: 'must be one of: TCP, UDP, tcp, udp' }).optional(),
  to: z.array(exposeTo).optional(),
});

const service = z.strictObject({
  args: stringArrayOrNull.optional(),
  command: stringArrayOrNull.optional(),
  credentials: z
    .strictObject({
      email: z.string().min(5, 'must be at least 5 characters').optional(),
      host: z.string('must be a string').min(1, 'must not be empty'),
      password: z.string('must be a string').min(6, 'must be at least 6 characters'),
      username: z.string('must be a string').min(1, 'must not be empty'),
    })
    .optional(),
  dependencies: z.array(z.strictObject({ service: z.string().optional() })).optional(),
  env: stringArrayOrNull.optional(),
  expose: z.array(expose).nullable().optional(),
  image: z.string('must be a string').min(1, 'must not be empty'),
  params: z
    .strictObject({
      storage: z
        .record(
          z.string(),
          z.strictObject({
            mount: z.string().min(1).regex(/^\//, 'must be an absolute path').optional(),
            readOnly: z.boolean('must be true or false').optional(),
          }),
        )
        .optional(),
      permissions: z
        .strictObject({
          read: z
            .array(
              z.enum(['deployment', 'logs', 'events'], { error: 'must be one of: deployment, logs, events' }),
            )
            .optional(),
        })
        .optional(),
      tee: z.enum(['cpu', 'cpu-gpu'], { error: 'must be one of: cpu, cpu-gpu' }).optional(),
    })
    .optional(),
});

const sdlSchema = z.strictObject({
  deployment: z.record(
    z.string(),
    z.record(
      z.string(),
      z.strictObject({
        count: z.number('must be an integer').int('must be an integer').min(1, 'must be at least 1'),
        profile: z.string('must be a string'),
      }),
    ),
  ),
  endpoints: z
    .record(
      z.string().regex(/^[a-z]+[-_0-9a-z]+$/, 'endpoint names must match ^[a-z]+[-_0-9a-z]+$'),
      z.strictObject({ kind: z.enum(['ip'], { error: 'must be one of: ip' }) }),
    )
    .optional(),
  include: stringList.optional(),
  profiles: z.strictObject({
    compute: z.record(z.string(), computeProfile),
    placement: z.record(z.string(), placementProfile),
  }),
  reclamation: z
    .strictObject({
      min_window: z
        .string('must be a string')
        .regex(/^[1-9][0-9]*(s|m|h)$/, 'must be a whole number followed by s, m, or h (e.g. "24h")'),
    })
    .optional(),
  services: z.record(z.string(), service),
  version: z.enum(['2.0', '2.1'], { error: 'must be the string "2.0" or "2.1"' }),
});

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'required field is missing';
    return issue.message.startsWith('Invalid input') ? `must be ${issue.expected}` : issue.message;
  }
  if (issue.code === 'invalid_key') return issue.issues[0]?.message ?? issue.message;
  return issue.message;
}

/** Every schema rule the SDL breaks, as problems under code SDL_SCHEMA. */
export function schemaProblems(root: YValue): Problem[] {
  const parsed = sdlSchema.safeParse(toPlain(root));
  if (parsed.success) return [];
  const out: Problem[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push(
          problem(
            'SDL_SCHEMA',
            `schema: additional property ${JSON.stringify(key)} is not allowed`,
            [...path, key],
            true,
          ),
        );
      }
      continue;
    }
    const where = path.length === 0 ? '' : ` (${path.join('.')})`;
    out.push(problem('SDL_SCHEMA', `schema: ${describe(issue)}${where}`, path, issue.code === 'invalid_key'));
  }
  return out;
}
