/**
 * Tree → decoded SDL, with zod doing the walking: one schema per Go struct, one transform per
 * Go scalar type or custom YAML unmarshaler. Every issue keeps its zod path, which the caller
 * maps back to a line and column.
 *
 * Go semantics kept on purpose: unknown keys inside a struct are ignored (only the top level
 * rejects them); nulls give zero values; a null item in a list of strings or structs is dropped;
 * errors use yaml.v3's and chain-sdk's words.
 */
import { z } from 'zod';
import type { ErrorCode } from '../errors/index.js';
import { goSort, goStableSort } from './go-sort.js';
import {
  BYTE_SUFFIXES,
  formatLegacyDec,
  goQuote,
  MEMORY_SUFFIXES,
  parseByteQuantity,
  parseCpuQuantity,
  parseLegacyDec,
  parseUint,
  RESOLVED_NULL,
  resolvedToBool,
  resolvedToUint,
} from './go-values.js';
import type { Attribute } from './manifest-types.js';
import type {
  CoinInput,
  ComputeResourcesInput,
  CredentialsInput,
  ExposeInput,
  ExposeToInput,
  HttpOptionsInput,
  PlacementInput,
  ServiceDeploymentInput,
  ServiceInput,
  ServiceParamsInput,
  StorageVolumeInput,
} from './model.js';
import { YScalar, type YValue } from './yaml-value.js';

type Ctx = z.core.$RefinementCtx;
type Path = readonly (string | number)[];

/** Adds a positioned issue carrying our stable code. */
function report(ctx: Ctx, input: unknown, code: ErrorCode, message: string, path: Path = []): void {
  ctx.issues.push({ code: 'custom', message, input, path: [...path], params: { sdlCode: code } });
}

function isNull(value: unknown): boolean {
  return value === undefined || (value instanceof YScalar && value.isNull);
}

/** yaml.v3's type error wording (`cannot unmarshal !!str \`abc\` into uint32`). */
function typeErrorText(value: unknown, goType: string): string {
  if (value instanceof Map) return `cannot unmarshal !!map into ${goType}`;
  if (Array.isArray(value)) return `cannot unmarshal !!seq into ${goType}`;
  if (value instanceof YScalar) {
    const shown = value.text.length > 10 ? `${value.text.slice(0, 7)}...` : value.text;
    return `cannot unmarshal ${value.shortTag} \`${shown}\` into ${goType}`;
  }
  return `cannot unmarshal into ${goType}`;
}

function typeError(ctx: Ctx, value: unknown, goType: string, path: Path = []): typeof z.NEVER {
  report(ctx, value, 'SDL_SCHEMA', typeErrorText(value, goType), path);
  return z.NEVER;
}

/** Go `string`: any scalar's text; null → "". */
const goString = z.any().transform((value: unknown, ctx): string => {
  if (isNull(value)) return '';
  if (value instanceof YScalar) return value.text;
  return typeError(ctx, value, 'string');
});

function goUint(bits: 32 | 64) {
  return z.any().transform((value: unknown, ctx): number => {
    if (isNull(value)) return 0;
    if (value instanceof YScalar) {
      const n = resolvedToUint(value.resolved, bits);
      if (n !== undefined) return Number(n);
    }
    return typeError(ctx, value, `uint${bits}`);
  });
}
const goUint32 = goUint(32);

const goBool = z.any().transform((value: unknown, ctx): boolean => {
  if (isNull(value)) return false;
  if (value instanceof YScalar) {
    const b = resolvedToBool(value.resolved, value.text);
    if (b !== undefined) return b;
  }
  return typeError(ctx, value, 'bool');
});

/** A list whose null items yaml.v3 drops (items of non-pointer element types). */
function elementsOf(value: readonly YValue[]): { item: YValue; index: number }[] {
  return value.map((item, index) => ({ item, index })).filter(({ item }) => !isNull(item));
}

/** Go `[]string`: null → nil; items converted one by one. */
const goStringList = z.any().transform((value: unknown, ctx): readonly string[] | null => {
  if (isNull(value)) return null;
  if (!Array.isArray(value)) return typeError(ctx, value, '[]string');
  const out: string[] = [];
  let failed = false;
  for (const { item, index } of elementsOf(value)) {
    if (item instanceof YScalar) out.push(item.text);
    else {
      typeError(ctx, item, 'string', [index]);
      failed = true;
    }
  }
  return failed ? z.NEVER : out;
});

/** The raw text a custom Go unmarshaler reads (`node.Value`): "" for collections, undefined for null. */
function rawText(value: unknown): string | undefined {
  if (isNull(value)) return undefined;
  return value instanceof YScalar ? value.text : '';
}

/** A Go struct: a mapping (unknown keys ignored) or null (zero value); absent fields read as null. */
function struct<T extends z.ZodRawShape>(goType: string, shape: T) {
  const fields = Object.keys(shape);
  const object = z.object(shape);
  type Out = z.output<typeof object>;
  let zero: Out | undefined;
  return z.any().transform((value: unknown, ctx): Out => {
    if (isNull(value)) {
      // Most optional structs (http_options, params, …) are absent: decode their zero value once.
      zero ??= Object.freeze(object.parse(Object.fromEntries(fields.map((f) => [f, ABSENT])))) as Out;
      return zero;
    }
    if (!(value instanceof Map)) return typeError(ctx, value, goType);
    const input: Record<string, unknown> = {};
    for (const field of fields) input[field] = value.has(field) ? value.get(field) : ABSENT;
    return forward(ctx, object, input, []);
  });
}

/** What an absent struct field decodes from: Go treats it like null. */
const ABSENT = new YScalar('', RESOLVED_NULL, '!!null', 0);

/** Runs `schema` on a sub-node and forwards its issues under `path`. */
function forward<T extends z.ZodTypeAny>(
  ctx: Ctx,
  schema: T,
  value: unknown,
  path: Path,
): z.output<T> | typeof z.NEVER {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    ctx.issues.push({ ...issue, input: undefined, path: [...path, ...issue.path] } as z.core.$ZodRawIssue);
  }
  return z.NEVER;
}

/** A Go pointer to struct: null → nil. */
function pointer<T extends z.ZodTypeAny>(inner: T) {
  return z.any().transform((value: unknown, ctx): z.output<T> | undefined => {
    if (isNull(value)) return undefined;
    return forward(ctx, inner, value, []);
  });
}

/** A Go `map[string]T`: null → empty. */
function goMap<T extends z.ZodTypeAny>(goType: string, inner: T) {
  return z
    .any()
    .transform((value: unknown, ctx) => {
      if (isNull(value)) return new Map<string, YValue>();
      if (value instanceof Map) return value;
      return typeError(ctx, value, goType);
    })
    .pipe(z.map(z.string(), inner));
}

/** A Go slice of structs: null → empty; null items dropped. */
function goList<T extends z.ZodTypeAny>(goType: string, inner: T) {
  return z.any().transform((value: unknown, ctx): z.output<T>[] => {
    if (isNull(value)) return [];
    if (!Array.isArray(value)) return typeError(ctx, value, goType);
    const out: z.output<T>[] = [];
    let failed = false;
    (value as readonly YValue[]).forEach((item, index) => {
      if (isNull(item)) return;
      const parsed = forward(ctx, inner, item, [index]);
      if (parsed === z.NEVER) failed = true;
      else out.push(parsed);
    });
    return failed ? z.NEVER : out;
  });
}

/** Key/value node pairs of a mapping, as Go loops over `node.Content` two by two. */
function pairsOf(value: unknown): { key: string; value: YValue; path: Path }[] {
  if (value instanceof Map) return [...value].map(([key, v]) => ({ key, value: v, path: [key] }));
  if (Array.isArray(value)) {
    const out: { key: string; value: YValue; path: Path }[] = [];
    for (let i = 0; i + 1 < value.length; i += 2) {
      out.push({ key: rawText(value[i]) ?? '', value: value[i + 1], path: [i + 1] });
    }
    return out;
  }
  return [];
}

function byKey(a: Attribute, b: Attribute): boolean {
  return a.key < b.key;
}

/** Go `map[string]string` with a custom error path; undefined when a value was not a scalar. */
function stringMap(ctx: Ctx, value: unknown): Map<string, string> | undefined {
  if (!(value instanceof Map)) {
    typeError(ctx, value, 'map[string]string');
    return undefined;
  }
  const out = new Map<string, string>();
  let failed = false;
  for (const [key, v] of value as Map<string, YValue>) {
    if (v instanceof YScalar) out.set(key, v.isNull ? '' : v.text);
    else {
      typeError(ctx, v, 'string', [key]);
      failed = true;
    }
  }
  return failed ? undefined : out;
}

const ATTRIBUTE_KEY = /^[a-zA-Z][\w/.-]{1,126}[\w*]?$/;

/** attributes.v1 `Attributes.Validate`. */
export function attributesProblem(attributes: readonly Attribute[]): string | undefined {
  const seen = new Set<string>();
  for (const { key } of attributes) {
    if (!ATTRIBUTE_KEY.test(key)) return 'attribute key does not match regexp';
    if (seen.has(key)) return 'attributes cannot have duplicate keys';
    seen.add(key);
  }
  return undefined;
}

const cpuUnits = z.any().transform((value: unknown, ctx): number => {
  const text = rawText(value);
  if (text === undefined) return 0;
  const parsed = parseCpuQuantity(text);
  if (parsed.ok) return parsed.value;
  report(ctx, value, 'SDL_RESOURCES', parsed.message);
  return z.NEVER;
});

function byteQuantity(suffixes: ReadonlyMap<string, number>) {
  return z.any().transform((value: unknown, ctx): bigint => {
    const text = rawText(value);
    if (text === undefined) return 0n;
    const parsed = parseByteQuantity(text, suffixes);
    if (parsed.ok) return parsed.value;
    report(ctx, value, 'SDL_RESOURCES', parsed.message);
    return z.NEVER;
  });
}

const cpuAttributes = z.any().transform((value: unknown, ctx): readonly Attribute[] | null => {
  if (isNull(value)) return null;
  const out: Attribute[] = [];
  for (const pair of pairsOf(value)) {
    if (pair.key !== 'arch') {
      report(ctx, value, 'SDL_RESOURCES', `unsupported cpu attribute ${goQuote(pair.key)}`, pair.path);
      return z.NEVER;
    }
    if (!(pair.value instanceof YScalar)) return typeError(ctx, pair.value, 'string', pair.path);
    out.push({ key: pair.key, value: pair.value.isNull ? '' : pair.value.text });
  }
  return out.length === 0 ? null : goSort(out, byKey);
});

const cpu = struct('sdl.v2ResourceCPU', { units: cpuUnits, attributes: cpuAttributes });

const memory = struct('sdl.v2ResourceMemory', { size: byteQuantity(BYTE_SUFFIXES) });

const gpuModel = struct('sdl.v2GPUNvidia', {
  model: goString,
  ram: z.any().transform((value: unknown, ctx): bigint | undefined => {
    const text = rawText(value);
    if (text === undefined) return undefined;
    const parsed = parseByteQuantity(text, MEMORY_SUFFIXES);
    if (parsed.ok) return parsed.value;
    report(ctx, value, 'SDL_GPU', parsed.message);
    return z.NEVER;
  }),
  interface: z.any().transform((value: unknown, ctx): string | undefined => {
    const text = rawText(value);
    if (text === undefined) return undefined;
    if (text === 'pcie' || text === 'sxm') return text;
    report(ctx, value, 'SDL_GPU', `sdl: invalid GPU interface ${text}. expected "pcie|sxm"`);
    return z.NEVER;
  }),
});

const gpuVendor = pointer(struct('sdl.gpuVendor', { nvidia: goList('sdl.v2GPUsNvidia', gpuModel) }));

const GIB = 1024n ** 3n;

const gpuAttributes = z.any().transform((value: unknown, ctx): readonly Attribute[] | null => {
  if (isNull(value)) return null;
  let vendor: z.output<typeof gpuVendor> | undefined;
  for (const pair of pairsOf(value)) {
    if (pair.key !== 'vendor') {
      report(ctx, value, 'SDL_GPU', `sdl: unsupported attribute (${pair.key}) for GPU resource`, pair.path);
      return z.NEVER;
    }
    const parsed = forward(ctx, gpuVendor, pair.value, pair.path);
    if (parsed === z.NEVER) return z.NEVER;
    vendor = parsed;
  }
  if (vendor === undefined) {
    report(ctx, value, 'SDL_GPU', 'sdl: invalid GPU attributes. at least one vendor must be set');
    return z.NEVER;
  }
  const out: Attribute[] = vendor.nvidia.map((model) => {
    let key = model.model;
    if (model.ram !== undefined) key += `/ram/${model.ram / GIB}Gi`;
    if (model.interface !== undefined) key += `/interface/${model.interface}`;
    return { key: `vendor/nvidia/model/${key}`, value: 'true' };
  });
  if (out.length === 0) out.push({ key: 'vendor/nvidia/model/*', value: 'true' });
  const sorted = goSort(out, byKey);
  const problem = attributesProblem(sorted);
  if (problem !== undefined) {
    report(ctx, value, 'SDL_GPU', `sdl: invalid GPU attributes: ${problem}`);
    return z.NEVER;
  }
  return sorted;
});

const gpu = z.any().transform((value: unknown, ctx): ComputeResourcesInput['gpu'] => {
  if (isNull(value)) return undefined;
  let units = 0n;
  let attributes: readonly Attribute[] | null = null;
  for (const pair of pairsOf(value)) {
    if (pair.key === 'units') {
      const text = rawText(pair.value);
      if (text === undefined) continue;
      const parsed = parseUint(text, 10, 64);
      if (!parsed.ok) {
        report(ctx, value, 'SDL_GPU', parsed.message, pair.path);
        return z.NEVER;
      }
      units = parsed.value;
    } else if (pair.key === 'attributes') {
      const attrs = forward(ctx, gpuAttributes, pair.value, pair.path);
      if (attrs === z.NEVER) return z.NEVER;
      attributes = attrs;
    } else {
      report(ctx, value, 'SDL_GPU', `sdl: unsupported field (${pair.key}) for GPU resource`, pair.path);
      return z.NEVER;
    }
  }
  if (units > 0n && (attributes === null || attributes.length === 0)) {
    report(ctx, value, 'SDL_GPU', 'sdl: GPU attributes must be present if units > 0');
    return z.NEVER;
  }
  return { units, attributes };
});

const STORAGE_CLASSES = new Set(['default', 'beta1', 'beta2', 'beta3', 'ram']);

function unifyBool(text: string): string | undefined {
  if (['true', 'on', 'yes'].includes(text)) return 'true';
  if (['false', 'off', 'no'].includes(text)) return 'false';
  return undefined;
}

const storageAttributes = z.any().transform((value: unknown, ctx): readonly Attribute[] | null => {
  if (isNull(value)) return null;
  const res = stringMap(ctx, value);
  if (res === undefined) return z.NEVER;
  if (!res.has('persistent')) res.set('persistent', 'false');
  const persistent = res.get('persistent');
  const cls = res.get('class') ?? '';
  if (cls === '') {
    if (persistent === 'true') res.set('class', 'default');
  } else if (cls === 'ram') {
    if (persistent !== 'false') {
      report(ctx, value, 'SDL_STORAGE', 'sdl: ram storage class cannot be persistent');
      return z.NEVER;
    }
  } else if (persistent === 'false') {
    report(ctx, value, 'SDL_STORAGE', 'sdl: ephemeral storage should not set attribute class');
    return z.NEVER;
  }
  const out: Attribute[] = [];
  for (const key of [...res.keys()].sort()) {
    let v = res.get(key)!;
    if (key === 'persistent') {
      const unified = unifyBool(v);
      if (unified === undefined) {
        report(ctx, value, 'SDL_STORAGE', `sdl: invalid value for attribute "${key}". expected bool`, [key]);
        return z.NEVER;
      }
      v = unified;
    } else if (key === 'class') {
      if (!STORAGE_CLASSES.has(v)) {
        report(ctx, value, 'SDL_STORAGE', 'sdl: invalid value for attribute class', [key]);
        return z.NEVER;
      }
    } else {
      report(ctx, value, 'SDL_STORAGE', `sdl: unsupported storage attribute: ${key}`, [key]);
      return z.NEVER;
    }
    out.push({ key, value: v });
  }
  return out;
});

const storageVolume = struct('sdl.v2ResourceStorage', {
  name: goString,
  size: byteQuantity(BYTE_SUFFIXES),
  attributes: storageAttributes,
});

/** chain-sdk's storage order: size, then the `persistent` attribute as a string, then `persistent` as a bool, then name. */
function storageLess(a: StorageVolumeInput, b: StorageVolumeInput): boolean {
  if (a.size < b.size) return true;
  if (a.size > b.size) return false;
  const find = (v: StorageVolumeInput) =>
    v.attributes?.find((attr) => attr.key === 'persistent')?.value ?? '';
  const ia = find(a);
  const ib = find(b);
  if ((ia === '' && ib !== '') || (ia !== '' && ib !== '' && ia < ib)) return true;
  if (ia !== '' && ib === '') return false;
  const pa = ia === '' ? false : (parseBoolLoose(ia) ?? false);
  const pb = ib === '' ? false : (parseBoolLoose(ib) ?? false);
  if (!pa) return true;
  if (!pb) return false;
  return a.name < b.name;
}

function parseBoolLoose(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

const storage = z.any().transform((value: unknown, ctx): readonly StorageVolumeInput[] | null => {
  if (isNull(value)) return null;
  const volumes: StorageVolumeInput[] = [];
  const decodeOne = (node: unknown, index: number): boolean => {
    const parsed = forward(ctx, storageVolume, node, index === -1 ? [] : [index]);
    if (parsed === z.NEVER) return false;
    const name = index === -1 || parsed.name === '' ? 'default' : parsed.name;
    volumes.push({ index, name, size: parsed.size, attributes: parsed.attributes });
    return true;
  };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!decodeOne(value[i], i)) return z.NEVER;
  } else if (value instanceof Map) {
    if (!decodeOne(value, -1)) return z.NEVER;
  } else {
    return null;
  }
  const names = new Set<string>();
  for (const volume of volumes) {
    if (names.has(volume.name)) {
      report(ctx, value, 'SDL_STORAGE', 'sdl: duplicated volume name');
      return z.NEVER;
    }
    names.add(volume.name);
  }
  return goStableSort(volumes, storageLess);
});

const computeResources = struct('sdl.v2ComputeResources', {
  cpu: pointer(cpu),
  gpu,
  memory: pointer(memory),
  storage,
});

const computeProfile = struct('sdl.v2ProfileCompute', { resources: pointer(computeResources) });

const placementAttributes = z.any().transform((value: unknown, ctx): readonly Attribute[] | null => {
  if (isNull(value)) return null;
  const res = stringMap(ctx, value);
  if (res === undefined) return z.NEVER;
  const out = [...res].map(([key, v]) => ({ key, value: v }));
  return out.length === 0 ? null : goSort(out, byKey);
});

const coinFields = struct('struct { Amount string; Denom string }', { amount: goString, denom: goString });

const coin = z.any().transform((value: unknown, ctx): CoinInput | null => {
  if (isNull(value)) return null;
  const fields = forward(ctx, coinFields, value, []);
  if (fields === z.NEVER) return z.NEVER;
  const amount = parseLegacyDec(fields.amount);
  if (!amount.ok) {
    report(ctx, value, 'SDL_PRICE', amount.message, ['amount']);
    return z.NEVER;
  }
  if (amount.value === 0n) {
    report(ctx, value, 'SDL_PRICE', 'invalid coin amount: amount is zero', ['amount']);
    return z.NEVER;
  }
  if (amount.value < 0n) {
    const shown = formatLegacyDec(amount.value);
    report(ctx, value, 'SDL_PRICE', `invalid: negative value not allowed: amount "${shown}" is negative`, [
      'amount',
    ]);
    return z.NEVER;
  }
  if (!DENOM.test(fields.denom)) {
    report(ctx, value, 'SDL_PRICE', `invalid denom: ${fields.denom}`, ['denom']);
    return z.NEVER;
  }
  return { denom: fields.denom, amount: amount.value };
});

/** cosmos-sdk denomination syntax. */
const DENOM = /^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$/;

const placementProfile = struct('sdl.v2ProfilePlacement', {
  attributes: placementAttributes,
  signedBy: struct('v1.SignedBy', { allOf: goStringList, anyOf: goStringList }),
  pricing: goMap('sdl.v2PlacementPricing', coin),
});

const profiles = struct('sdl.v2profiles', {
  compute: goMap('map[string]sdl.v2ProfileCompute', computeProfile),
  placement: goMap('map[string]sdl.v2ProfilePlacement', placementProfile),
});

const httpOptions = struct('sdl.v2HTTPOptions', {
  max_body_size: goUint32,
  proxy_buffer_size: goUint32,
  read_timeout: goUint32,
  send_timeout: goUint32,
  next_tries: goUint32,
  next_timeout: goUint32,
  next_cases: goStringList,
}).transform(
  (h): HttpOptionsInput => ({
    maxBodySize: h.max_body_size,
    proxyBufferSize: h.proxy_buffer_size,
    readTimeout: h.read_timeout,
    sendTimeout: h.send_timeout,
    nextTries: h.next_tries,
    nextTimeout: h.next_timeout,
    nextCases: h.next_cases,
  }),
);

const exposeTo = struct('sdl.v2ExposeTo', {
  service: goString,
  global: goBool,
  http_options: httpOptions,
  ip: goString,
}).transform((t): ExposeToInput => ({ service: t.service, global: t.global, ip: t.ip }));

/** Go's `url.ParseRequestURI("http://" + host)`, the only check `accept` gets while decoding. */
function acceptProblem(item: string): string | undefined {
  const url = `http://${item}`;
  const prefix = `parse ${goQuote(url)}: `;
  if ([...url].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
    return `${prefix}net/url: invalid control character in URL`;
  }
  const rest = item.split('?')[0]!;
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf('@');
  const host = authority.slice(at + 1);
  const badEscape = /%(?![0-9a-fA-F]{2})/.exec(rest);
  if (!host.startsWith('[')) {
    const colon = host.lastIndexOf(':');
    if (colon !== -1 && !/^[0-9]*$/.test(host.slice(colon + 1))) {
      return `${prefix}invalid port ${goQuote(host.slice(colon))} after host`;
    }
    const bad = /[^A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"%\u0080-\uffff]/.exec(host);
    if (bad) return `${prefix}invalid character ${goQuote(bad[0])} in host name`;
  }
  if (badEscape)
    return `${prefix}invalid URL escape ${goQuote(rest.slice(badEscape.index, badEscape.index + 3))}`;
  return undefined;
}

const accept = z.any().transform((value: unknown, ctx): readonly string[] | null => {
  const list = forward(ctx, goStringList, value, []);
  if (list === z.NEVER) return z.NEVER;
  for (const [index, item] of (list ?? []).entries()) {
    const problem = acceptProblem(item);
    if (problem !== undefined) {
      report(ctx, value, 'SDL_HOSTNAME', problem, [index]);
      return z.NEVER;
    }
  }
  return list;
});

const expose = struct('sdl.v2Expose', {
  port: goUint32,
  as: goUint32,
  proto: goString,
  to: goList('[]sdl.v2ExposeTo', exposeTo),
  accept,
  http_options: httpOptions,
}).transform(
  (e): ExposeInput => ({
    port: e.port,
    as: e.as,
    proto: e.proto,
    to: e.to,
    accept: e.accept,
    httpOptions: e.http_options,
  }),
);

const serviceParams = struct('sdl.v2ServiceParams', {
  storage: goMap(
    'map[string]sdl.v2ServiceStorageParams',
    struct('sdl.v2ServiceStorageParams', { mount: goString, readOnly: goBool }),
  ),
  permissions: pointer(struct('sdl.v2ServicePermissions', { read: goStringList })),
  tee: goString,
}).transform((p): ServiceParamsInput => ({ storage: p.storage, permissions: p.permissions, tee: p.tee }));

const credentials = struct('sdl.v2ServiceCredentials', {
  host: goString,
  email: goString,
  username: goString,
  password: goString,
}).transform((c): CredentialsInput => c);

const service = struct('sdl.v2Service', {
  image: goString,
  command: goStringList,
  args: goStringList,
  env: goStringList,
  expose: goList('sdl.v2Exposes', expose),
  dependencies: goList('[]sdl.v2Dependency', struct('sdl.v2Dependency', { service: goString })),
  params: pointer(serviceParams),
  credentials: pointer(credentials),
}).transform(
  (s): ServiceInput => ({
    image: s.image,
    command: s.command,
    args: s.args,
    env: s.env,
    expose: s.expose,
    params: s.params,
    credentials: s.credentials,
  }),
);

const deployment = goMap(
  'sdl.v2Deployments',
  goMap(
    'sdl.v2Deployment',
    struct('sdl.v2ServiceDeployment', { profile: goString, count: goUint32 }).transform(
      (d): ServiceDeploymentInput => d,
    ),
  ),
);

/** The decoder for each top-level key the Go reference accepts (`version` is read separately). */
export const SECTIONS = {
  include: goStringList,
  services: goMap('map[string]sdl.v2Service', service),
  profiles: profiles.transform((p) => ({
    compute: p.compute,
    placement: p.placement as ReadonlyMap<string, PlacementInput>,
  })),
  deployment,
  endpoints: goMap('map[string]sdl.v2Endpoint', struct('sdl.v2Endpoint', { kind: goString })),
  reclamation: struct('sdl.v2Reclamation', { min_window: goString }).transform((r) => ({
    minWindow: r.min_window,
  })),
} as const;

export type SectionName = keyof typeof SECTIONS;
