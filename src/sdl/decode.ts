/**
 * Tree → decoded SDL: one decoder per Go struct, one per Go scalar type or custom YAML unmarshaler.
 * Every issue keeps the path of its node, which the caller maps back to a line and column.
 *
 * Go semantics kept on purpose: unknown keys inside a struct are ignored (only the top level
 * rejects them); nulls give zero values; a null item in a list of strings or structs is dropped;
 * errors use yaml.v3's and chain-sdk's words.
 */
import type { ErrorCode } from '../errors/index.js';
import { type Problem, problem } from './diagnostics.js';
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

type Path = readonly (string | number)[];

/**
 * Where a decoder reports: the problems gathered so far and the path of the node it decodes. The path is a
 * chain up to the section, joined only when a problem is reported: every field of every struct gets a context.
 * (Hot loops here avoid `for…of` with destructuring: a CLI run executes this code once, cold, where each
 * iteration step and destructured pair costs an allocation.)
 */
class Ctx {
  constructor(
    readonly problems: Problem[],
    private readonly parent: Ctx | undefined,
    /** One step below the parent (most of them: a field, key or index), or several. */
    private readonly step: string | number | Path,
  ) {}

  get path(): Path {
    const own = typeof this.step === 'object' ? this.step : [this.step];
    return this.parent === undefined ? own : [...this.parent.path, ...own];
  }

  /** The context one field, key or index below (no array for the step: a decode makes one per node). */
  key(step: string | number): Ctx {
    return new Ctx(this.problems, this, step);
  }

  at(...steps: Path): Ctx {
    return new Ctx(this.problems, this, steps);
  }
}

/** What a decoder returns once it has reported why the node does not decode. */
const FAIL: unique symbol = Symbol('decode failed');
type Fail = typeof FAIL;

/** Decodes one node; on failure it reports at least one problem and returns {@link FAIL}. */
type Decoder<T> = (value: unknown, ctx: Ctx) => T | Fail;
type Decoded<D> = D extends Decoder<infer T> ? T : never;

/** Adds a positioned problem carrying our stable code. */
function report(ctx: Ctx, code: ErrorCode, message: string, path: Path = []): Fail {
  ctx.problems.push(problem(code, message, [...ctx.path, ...path]));
  return FAIL;
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

function typeError(ctx: Ctx, value: unknown, goType: string, path: Path = []): Fail {
  return report(ctx, 'SDL_SCHEMA', typeErrorText(value, goType), path);
}

/** A decoder whose result, when it decodes, is reshaped by `shape`. */
function reshape<T, U>(decoder: Decoder<T>, shape: (value: T) => U): Decoder<U> {
  return (value, ctx) => {
    const decoded = decoder(value, ctx);
    return decoded === FAIL ? FAIL : shape(decoded);
  };
}

/** Go `string`: any scalar's text; null → "". */
const goString = (value: unknown, ctx: Ctx): string | Fail => {
  if (isNull(value)) return '';
  if (value instanceof YScalar) return value.text;
  return typeError(ctx, value, 'string');
};

function goUint(bits: 32 | 64) {
  return (value: unknown, ctx: Ctx): number | Fail => {
    if (isNull(value)) return 0;
    if (value instanceof YScalar) {
      const n = resolvedToUint(value.resolved, bits);
      if (n !== undefined) return Number(n);
    }
    return typeError(ctx, value, `uint${bits}`);
  };
}
const goUint32 = goUint(32);

const goBool = (value: unknown, ctx: Ctx): boolean | Fail => {
  if (isNull(value)) return false;
  if (value instanceof YScalar) {
    const b = resolvedToBool(value.resolved, value.text);
    if (b !== undefined) return b;
  }
  return typeError(ctx, value, 'bool');
};

/** Go `[]string`: null → nil; items converted one by one. */
const goStringList = (value: unknown, ctx: Ctx): readonly string[] | null | Fail => {
  if (isNull(value)) return null;
  if (!Array.isArray(value)) return typeError(ctx, value, '[]string');
  const out: string[] = [];
  let failed = false;
  for (let index = 0; index < value.length; index++) {
    const item = value[index] as YValue;
    // yaml.v3 drops the null items of a list of a non-pointer element type
    if (isNull(item)) continue;
    if (item instanceof YScalar) out.push(item.text);
    else {
      typeError(ctx, item, 'string', [index]);
      failed = true;
    }
  }
  return failed ? FAIL : out;
};

/** The raw text a custom Go unmarshaler reads (`node.Value`): "" for collections, undefined for null. */
function rawText(value: unknown): string | undefined {
  if (isNull(value)) return undefined;
  return value instanceof YScalar ? value.text : '';
}

/** A Go struct: a mapping (unknown keys ignored) or null (zero value); absent fields read as null. */
function struct<S extends Record<string, Decoder<unknown>>>(
  goType: string,
  shape: S,
): Decoder<{ [K in keyof S]: Decoded<S[K]> }> {
  type Out = { [K in keyof S]: Decoded<S[K]> };
  const fields = Object.keys(shape) as (keyof S & string)[];
  /** Every field in declaration order, each reporting under its name; fails if any field failed. */
  const decodeFields = (read: (field: string) => unknown, ctx: Ctx): Out | Fail => {
    const out = {} as Out;
    let failed = false;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      const decoded = (shape[field] as Decoder<unknown>)(read(field), ctx.key(field));
      if (decoded === FAIL) failed = true;
      else out[field] = decoded as Out[typeof field];
    }
    return failed ? FAIL : out;
  };
  let zero: Out | undefined;
  return (value, ctx) => {
    if (isNull(value)) {
      // Most optional structs (http_options, params, …) are absent: decode their zero value once.
      zero ??= Object.freeze(decodeFields(() => ABSENT, new Ctx([], undefined, [])) as Out);
      return zero;
    }
    if (!(value instanceof Map)) return typeError(ctx, value, goType);
    // A YAML mapping holds no undefined values: one lookup per field.
    return decodeFields((field) => value.get(field) ?? ABSENT, ctx);
  };
}

/** What an absent struct field decodes from: Go treats it like null. */
const ABSENT = new YScalar('', RESOLVED_NULL, '!!null', 0);

/** A Go pointer to struct: null → nil. */
function pointer<T>(inner: Decoder<T>): Decoder<T | undefined> {
  return (value, ctx) => (isNull(value) ? undefined : inner(value, ctx));
}

/** A Go `map[string]T`: null → empty; every entry decoded, each reporting under its key. */
function goMap<T>(goType: string, inner: Decoder<T>): Decoder<Map<string, T>> {
  return (value, ctx) => {
    const out = new Map<string, T>();
    if (isNull(value)) return out;
    if (!(value instanceof Map)) return typeError(ctx, value, goType);
    let failed = false;
    (value as Map<string, YValue>).forEach((item, key) => {
      const decoded = inner(item, ctx.key(key));
      if (decoded === FAIL) failed = true;
      else out.set(key, decoded);
    });
    return failed ? FAIL : out;
  };
}

/** A Go slice of structs: null → empty; null items dropped. */
function goList<T>(goType: string, inner: Decoder<T>): Decoder<T[]> {
  return (value, ctx) => {
    if (isNull(value)) return [];
    if (!Array.isArray(value)) return typeError(ctx, value, goType);
    const out: T[] = [];
    let failed = false;
    for (let index = 0; index < value.length; index++) {
      const item = value[index] as YValue;
      if (isNull(item)) continue; // dropped, as in goStringList
      const decoded = inner(item, ctx.key(index));
      if (decoded === FAIL) failed = true;
      else out.push(decoded);
    }
    return failed ? FAIL : out;
  };
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

const cpuUnits = (value: unknown, ctx: Ctx): number | Fail => {
  const text = rawText(value);
  if (text === undefined) return 0;
  const parsed = parseCpuQuantity(text);
  if (parsed.ok) return parsed.value;
  report(ctx, 'SDL_RESOURCES', parsed.message);
  return FAIL;
};

function byteQuantity(suffixes: ReadonlyMap<string, number>) {
  return (value: unknown, ctx: Ctx): bigint | Fail => {
    const text = rawText(value);
    if (text === undefined) return 0n;
    const parsed = parseByteQuantity(text, suffixes);
    if (parsed.ok) return parsed.value;
    report(ctx, 'SDL_RESOURCES', parsed.message);
    return FAIL;
  };
}

const cpuAttributes = (value: unknown, ctx: Ctx): readonly Attribute[] | null | Fail => {
  if (isNull(value)) return null;
  const out: Attribute[] = [];
  for (const pair of pairsOf(value)) {
    if (pair.key !== 'arch') {
      report(ctx, 'SDL_RESOURCES', `unsupported cpu attribute ${goQuote(pair.key)}`, pair.path);
      return FAIL;
    }
    if (!(pair.value instanceof YScalar)) return typeError(ctx, pair.value, 'string', pair.path);
    out.push({ key: pair.key, value: pair.value.isNull ? '' : pair.value.text });
  }
  return out.length === 0 ? null : goSort(out, byKey);
};

const cpu = struct('sdl.v2ResourceCPU', { units: cpuUnits, attributes: cpuAttributes });

const memory = struct('sdl.v2ResourceMemory', { size: byteQuantity(BYTE_SUFFIXES) });

const gpuModel = struct('sdl.v2GPUNvidia', {
  model: goString,
  ram: (value: unknown, ctx: Ctx): bigint | undefined | Fail => {
    const text = rawText(value);
    if (text === undefined) return undefined;
    const parsed = parseByteQuantity(text, MEMORY_SUFFIXES);
    if (parsed.ok) return parsed.value;
    report(ctx, 'SDL_GPU', parsed.message);
    return FAIL;
  },
  interface: (value: unknown, ctx: Ctx): string | undefined | Fail => {
    const text = rawText(value);
    if (text === undefined) return undefined;
    if (text === 'pcie' || text === 'sxm') return text;
    report(ctx, 'SDL_GPU', `sdl: invalid GPU interface ${text}. expected "pcie|sxm"`);
    return FAIL;
  },
});

const gpuVendor = pointer(struct('sdl.gpuVendor', { nvidia: goList('sdl.v2GPUsNvidia', gpuModel) }));

const GIB = 1024n ** 3n;

const gpuAttributes = (value: unknown, ctx: Ctx): readonly Attribute[] | null | Fail => {
  if (isNull(value)) return null;
  let vendor: Decoded<typeof gpuVendor> | undefined;
  for (const pair of pairsOf(value)) {
    if (pair.key !== 'vendor') {
      report(ctx, 'SDL_GPU', `sdl: unsupported attribute (${pair.key}) for GPU resource`, pair.path);
      return FAIL;
    }
    const parsed = gpuVendor(pair.value, ctx.at(...pair.path));
    if (parsed === FAIL) return FAIL;
    vendor = parsed;
  }
  if (vendor === undefined) {
    report(ctx, 'SDL_GPU', 'sdl: invalid GPU attributes. at least one vendor must be set');
    return FAIL;
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
    report(ctx, 'SDL_GPU', `sdl: invalid GPU attributes: ${problem}`);
    return FAIL;
  }
  return sorted;
};

const gpu = (value: unknown, ctx: Ctx): ComputeResourcesInput['gpu'] | Fail => {
  if (isNull(value)) return undefined;
  let units = 0n;
  let attributes: readonly Attribute[] | null = null;
  for (const pair of pairsOf(value)) {
    if (pair.key === 'units') {
      const text = rawText(pair.value);
      if (text === undefined) continue;
      const parsed = parseUint(text, 10, 64);
      if (!parsed.ok) {
        report(ctx, 'SDL_GPU', parsed.message, pair.path);
        return FAIL;
      }
      units = parsed.value;
    } else if (pair.key === 'attributes') {
      const attrs = gpuAttributes(pair.value, ctx.at(...pair.path));
      if (attrs === FAIL) return FAIL;
      attributes = attrs;
    } else {
      report(ctx, 'SDL_GPU', `sdl: unsupported field (${pair.key}) for GPU resource`, pair.path);
      return FAIL;
    }
  }
  if (units > 0n && (attributes === null || attributes.length === 0)) {
    report(ctx, 'SDL_GPU', 'sdl: GPU attributes must be present if units > 0');
    return FAIL;
  }
  return { units, attributes };
};

const STORAGE_CLASSES = new Set(['default', 'beta1', 'beta2', 'beta3', 'ram']);

function unifyBool(text: string): string | undefined {
  if (['true', 'on', 'yes'].includes(text)) return 'true';
  if (['false', 'off', 'no'].includes(text)) return 'false';
  return undefined;
}

const storageAttributes = (value: unknown, ctx: Ctx): readonly Attribute[] | null | Fail => {
  if (isNull(value)) return null;
  const res = stringMap(ctx, value);
  if (res === undefined) return FAIL;
  if (!res.has('persistent')) res.set('persistent', 'false');
  const persistent = res.get('persistent');
  const cls = res.get('class') ?? '';
  if (cls === '') {
    if (persistent === 'true') res.set('class', 'default');
  } else if (cls === 'ram') {
    if (persistent !== 'false') {
      report(ctx, 'SDL_STORAGE', 'sdl: ram storage class cannot be persistent');
      return FAIL;
    }
  } else if (persistent === 'false') {
    report(ctx, 'SDL_STORAGE', 'sdl: ephemeral storage should not set attribute class');
    return FAIL;
  }
  const out: Attribute[] = [];
  for (const key of [...res.keys()].sort()) {
    let v = res.get(key)!;
    if (key === 'persistent') {
      const unified = unifyBool(v);
      if (unified === undefined) {
        report(ctx, 'SDL_STORAGE', `sdl: invalid value for attribute "${key}". expected bool`, [key]);
        return FAIL;
      }
      v = unified;
    } else if (key === 'class') {
      if (!STORAGE_CLASSES.has(v)) {
        report(ctx, 'SDL_STORAGE', 'sdl: invalid value for attribute class', [key]);
        return FAIL;
      }
    } else {
      report(ctx, 'SDL_STORAGE', `sdl: unsupported storage attribute: ${key}`, [key]);
      return FAIL;
    }
    out.push({ key, value: v });
  }
  return out;
};

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

const storage = (value: unknown, ctx: Ctx): readonly StorageVolumeInput[] | null | Fail => {
  if (isNull(value)) return null;
  const volumes: StorageVolumeInput[] = [];
  const decodeOne = (node: unknown, index: number): boolean => {
    const parsed = storageVolume(node, index === -1 ? ctx : ctx.key(index));
    if (parsed === FAIL) return false;
    const name = index === -1 || parsed.name === '' ? 'default' : parsed.name;
    volumes.push({ index, name, size: parsed.size, attributes: parsed.attributes });
    return true;
  };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!decodeOne(value[i], i)) return FAIL;
  } else if (value instanceof Map) {
    if (!decodeOne(value, -1)) return FAIL;
  } else {
    return null;
  }
  const names = new Set<string>();
  for (const volume of volumes) {
    if (names.has(volume.name)) {
      report(ctx, 'SDL_STORAGE', 'sdl: duplicated volume name');
      return FAIL;
    }
    names.add(volume.name);
  }
  return goStableSort(volumes, storageLess);
};

const computeResources = struct('sdl.v2ComputeResources', {
  cpu: pointer(cpu),
  gpu,
  memory: pointer(memory),
  storage,
});

const computeProfile = struct('sdl.v2ProfileCompute', { resources: pointer(computeResources) });

const placementAttributes = (value: unknown, ctx: Ctx): readonly Attribute[] | null | Fail => {
  if (isNull(value)) return null;
  const res = stringMap(ctx, value);
  if (res === undefined) return FAIL;
  const out = [...res].map(([key, v]) => ({ key, value: v }));
  return out.length === 0 ? null : goSort(out, byKey);
};

const coinFields = struct('struct { Amount string; Denom string }', { amount: goString, denom: goString });

const coin = (value: unknown, ctx: Ctx): CoinInput | null | Fail => {
  if (isNull(value)) return null;
  const fields = coinFields(value, ctx);
  if (fields === FAIL) return FAIL;
  const amount = parseLegacyDec(fields.amount);
  if (!amount.ok) {
    report(ctx, 'SDL_PRICE', amount.message, ['amount']);
    return FAIL;
  }
  if (amount.value === 0n) {
    report(ctx, 'SDL_PRICE', 'invalid coin amount: amount is zero', ['amount']);
    return FAIL;
  }
  if (amount.value < 0n) {
    const shown = formatLegacyDec(amount.value);
    report(ctx, 'SDL_PRICE', `invalid: negative value not allowed: amount "${shown}" is negative`, [
      'amount',
    ]);
    return FAIL;
  }
  if (!DENOM.test(fields.denom)) {
    report(ctx, 'SDL_PRICE', `invalid denom: ${fields.denom}`, ['denom']);
    return FAIL;
  }
  return { denom: fields.denom, amount: amount.value };
};

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

const httpOptions = reshape(
  struct('sdl.v2HTTPOptions', {
    max_body_size: goUint32,
    proxy_buffer_size: goUint32,
    read_timeout: goUint32,
    send_timeout: goUint32,
    next_tries: goUint32,
    next_timeout: goUint32,
    next_cases: goStringList,
  }),
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

const exposeTo = reshape(
  struct('sdl.v2ExposeTo', {
    service: goString,
    global: goBool,
    http_options: httpOptions,
    ip: goString,
  }),
  (t): ExposeToInput => ({ service: t.service, global: t.global, ip: t.ip }),
);

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

const accept = (value: unknown, ctx: Ctx): readonly string[] | null | Fail => {
  const list = goStringList(value, ctx);
  if (list === FAIL) return FAIL;
  for (const [index, item] of (list ?? []).entries()) {
    const problem = acceptProblem(item);
    if (problem !== undefined) {
      report(ctx, 'SDL_HOSTNAME', problem, [index]);
      return FAIL;
    }
  }
  return list;
};

const expose = reshape(
  struct('sdl.v2Expose', {
    port: goUint32,
    as: goUint32,
    proto: goString,
    to: goList('[]sdl.v2ExposeTo', exposeTo),
    accept,
    http_options: httpOptions,
  }),
  (e): ExposeInput => ({
    port: e.port,
    as: e.as,
    proto: e.proto,
    to: e.to,
    accept: e.accept,
    httpOptions: e.http_options,
  }),
);

const serviceParams = reshape(
  struct('sdl.v2ServiceParams', {
    storage: goMap(
      'map[string]sdl.v2ServiceStorageParams',
      struct('sdl.v2ServiceStorageParams', { mount: goString, readOnly: goBool }),
    ),
    permissions: pointer(struct('sdl.v2ServicePermissions', { read: goStringList })),
    tee: goString,
  }),
  (p): ServiceParamsInput => ({ storage: p.storage, permissions: p.permissions, tee: p.tee }),
);

const credentials = reshape(
  struct('sdl.v2ServiceCredentials', {
    host: goString,
    email: goString,
    username: goString,
    password: goString,
  }),
  (c): CredentialsInput => c,
);

const service = reshape(
  struct('sdl.v2Service', {
    image: goString,
    command: goStringList,
    args: goStringList,
    env: goStringList,
    expose: goList('sdl.v2Exposes', expose),
    dependencies: goList('[]sdl.v2Dependency', struct('sdl.v2Dependency', { service: goString })),
    params: pointer(serviceParams),
    credentials: pointer(credentials),
  }),
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
    struct('sdl.v2ServiceDeployment', {
      profile: goString,
      count: goUint32,
    }) as Decoder<ServiceDeploymentInput>,
  ),
);

/** The decoder for each top-level key the Go reference accepts (`version` is read separately). */
const SECTIONS = {
  include: goStringList,
  services: goMap('map[string]sdl.v2Service', service),
  profiles: reshape(profiles, (p) => ({
    compute: p.compute,
    placement: p.placement as ReadonlyMap<string, PlacementInput>,
  })),
  deployment,
  endpoints: goMap('map[string]sdl.v2Endpoint', struct('sdl.v2Endpoint', { kind: goString })),
  reclamation: reshape(struct('sdl.v2Reclamation', { min_window: goString }), (r) => ({
    minWindow: r.min_window,
  })),
} as const;

export type SectionName = keyof typeof SECTIONS;
export type Section<K extends SectionName> = Decoded<(typeof SECTIONS)[K]>;

export function isSection(key: string): key is SectionName {
  return Object.hasOwn(SECTIONS, key);
}

/** Decodes one top-level section (absent: `undefined`, its Go zero value), or every problem found in it. */
export function decodeSection<K extends SectionName>(
  key: K,
  value: YValue | undefined,
): { readonly ok: true; readonly value: Section<K> } | { readonly ok: false; readonly problems: Problem[] } {
  const problems: Problem[] = [];
  const decoded = SECTIONS[key](value, new Ctx(problems, undefined, [key]));
  return decoded === FAIL ? { ok: false, problems } : { ok: true, value: decoded as Section<K> };
}
