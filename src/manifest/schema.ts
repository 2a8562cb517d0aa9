/**
 * The manifest a tenant PUTs, checked at the boundary: by the provider daemon on receipt, and by the tenant's
 * flows before they change the ledger (so both judge with one parser). Objects keep fields this daemon does not know
 * (a newer tenant tool may send them), because the manifest version is a hash of everything sent.
 */
import { z } from 'zod';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { deepFreeze } from '../frozen/index.js';
import { groupSpecSchema } from '../market/index.js';
import type { Manifest } from '../sdl/index.js';

/** Most groups, services per group and exposes per service a manifest may carry. */
const MAX_GROUPS = 64;
const MAX_SERVICES = 256;
const MAX_EXPOSES = 256;

const resourcesSchema = groupSpecSchema.shape.resources.element.shape.resource;
const strings = z.array(z.string()).nullable();
const port = z.int().min(0).max(65535);

const exposeSchema = z.looseObject({
  port: port.min(1),
  externalPort: port,
  proto: z.enum(['TCP', 'UDP']),
  service: z.string(),
  global: z.boolean(),
  hosts: strings,
  httpOptions: z.looseObject({}),
  ip: z.string(),
  endpointSequenceNumber: z.int().min(0).max(0xffff_ffff),
});

const serviceSchema = z.looseObject({
  name: z.string().min(1).max(253),
  image: z.string(),
  command: strings,
  args: strings,
  env: strings,
  resources: resourcesSchema,
  count: z.int().min(0).max(0xffff_ffff),
  expose: z.array(exposeSchema).max(MAX_EXPOSES),
  credentials: z.looseObject({}).nullable().exactOptional(),
});

const groupSchema = z.looseObject({
  name: z.string().min(1),
  services: z.array(serviceSchema).min(1).max(MAX_SERVICES),
});

const manifestSchema = z.array(groupSchema).min(1).max(MAX_GROUPS);

/** Parses a manifest body (decoded JSON) into a frozen {@link Manifest}. */
export function parseManifest(input: unknown): Result<Manifest, AppError> {
  const parsed = manifestSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where =
      issue === undefined || issue.path.length === 0 ? 'manifest' : `manifest.${issue.path.join('.')}`;
    return fail(appError('INVALID_INPUT', `invalid manifest at ${where}: ${issue?.message ?? 'rejected'}`));
  }
  const names = new Set<string>();
  for (const group of parsed.data) {
    if (names.has(group.name)) {
      return fail(appError('INVALID_INPUT', `invalid manifest: group "${group.name}" appears twice`));
    }
    names.add(group.name);
  }
  return ok(deepFreeze(parsed.data as unknown as Manifest));
}
