/**
 * Decoded SDL → manifest groups and deployment group specs, following chain-sdk's
 * `buildGroups` (v2.0 and v2.1) step by step: endpoint sequence numbers, expose entries,
 * resource endpoints, resource units, and their order.
 */

import { type Problem, problem } from './diagnostics.js';
import { goSort, goSortStrings, goStringLess } from './go-sort.js';
import { formatLegacyDec, goQuote } from './go-values.js';
import {
  type Attribute,
  type Credentials,
  ENDPOINT_KIND,
  type GroupSpec,
  type HttpOptions,
  type ManifestGroup,
  type ManifestProtocol,
  type ManifestService,
  type ResourceEndpoint,
  type Resources,
  type ResourceUnit,
  type ServiceExpose,
  type ServiceParams,
} from './manifest-types.js';
import type {
  ComputeResourcesInput,
  ExposeInput,
  HttpOptionsInput,
  SdlInput,
  ServiceInput,
} from './model.js';

/** Byte-order sorted keys (Go `sort.Strings`). */
export function sortedKeys(map: ReadonlyMap<string, unknown>): string[] {
  return goSortStrings([...map.keys()]);
}

/**
 * chain-sdk `computeEndpointSequenceNumbers`: over deployed services, every `to` except a plain
 * global one adds its `ip` (so a non-global `to` adds "", which shifts every IP up by one); the
 * sorted list is numbered from 1 and an endpoint keeps the number of its last occurrence.
 */
function endpointSequenceNumbers(sdl: SdlInput): ReadonlyMap<string, number> {
  const names: string[] = [];
  for (const svcName of sortedKeys(sdl.deployment)) {
    for (const expose of sdl.services.get(svcName)?.expose ?? []) {
      for (const to of expose.to) {
        if (to.global && to.ip === '') continue;
        names.push(to.ip);
      }
    }
  }
  goSortStrings(names);
  const seq = new Map<string, number>();
  names.forEach((name, i) => {
    seq.set(name, i + 1);
  });
  return seq;
}

const NEXT_CASES = new Set(['error', 'timeout', '500', '502', '503', '504', '403', '404', '429']);

/** chain-sdk `v2HTTPOptions.asManifest`: defaults for zeros, limits, next cases. */
function httpOptionsOf(h: HttpOptionsInput): { value: HttpOptions } | { message: string; field: string } {
  const notAllowed = 'http option not allowed';
  if (h.maxBodySize > 104857600) {
    return {
      message: `${notAllowed}: body size cannot be greater than 104857600 bytes`,
      field: 'max_body_size',
    };
  }
  if (h.proxyBufferSize > 1048576) {
    return {
      message: `${notAllowed}: proxy buffer size cannot be greater than 1048576 bytes`,
      field: 'proxy_buffer_size',
    };
  }
  if (h.readTimeout > 60000) {
    return { message: `${notAllowed}: read timeout cannot be greater than 60000 ms`, field: 'read_timeout' };
  }
  if (h.sendTimeout > 60000) {
    return { message: `${notAllowed}: send timeout cannot be greater than 60000 ms`, field: 'send_timeout' };
  }
  let nextCases: readonly string[] = ['error', 'timeout'];
  if (h.nextCases !== null && h.nextCases.length > 0) {
    for (const c of h.nextCases) {
      if (c === 'off') {
        if (h.nextCases.length !== 1) {
          return { message: "if 'off' is specified, no other cases may be specified", field: 'next_cases' };
        }
      } else if (!NEXT_CASES.has(c)) {
        return { message: `next case is unknown: ${goQuote(c)}`, field: 'next_cases' };
      }
    }
    nextCases = h.nextCases;
  }
  const value: HttpOptions = {
    maxBodySize: h.maxBodySize === 0 ? 1048576 : h.maxBodySize,
    readTimeout: h.readTimeout === 0 ? 60000 : h.readTimeout,
    sendTimeout: h.sendTimeout === 0 ? 60000 : h.sendTimeout,
    nextTries: h.nextTries === 0 ? 3 : h.nextTries,
    nextTimeout: h.nextTimeout,
    nextCases,
    ...(h.proxyBufferSize === 0 ? {} : { proxyBufferSize: h.proxyBufferSize }),
  };
  return { value };
}

/** manifest `ParseServiceProtocol`: case-insensitive, "" is TCP. */
function protocolOf(raw: string): ManifestProtocol | undefined {
  const upper = raw.toUpperCase();
  if (upper === '' || upper === 'TCP') return 'TCP';
  if (upper === 'UDP') return 'UDP';
  return undefined;
}

function exposeLess(a: ServiceExpose, b: ServiceExpose): boolean {
  if (a.service !== b.service) return goStringLess(a.service, b.service);
  if (a.port !== b.port) return a.port < b.port;
  if (a.proto !== b.proto) return a.proto < b.proto;
  if (a.global !== b.global) return a.global;
  return false;
}

/** Where each manifest expose came from in the SDL, for positioning later checks. */
export type ExposeOrigins = Map<ServiceExpose, readonly (string | number)[]>;

/** chain-sdk `v2Exposes.toManifestExpose`: one entry per `to` (or one non-global entry), sorted. */
function manifestExposes(
  svcName: string,
  exposes: readonly ExposeInput[],
  seq: ReadonlyMap<string, number>,
  origins: ExposeOrigins,
  problems: Problem[],
): ServiceExpose[] | undefined {
  const out: ServiceExpose[] = [];
  let failed = false;
  exposes.forEach((expose, i) => {
    const at = ['services', svcName, 'expose', i];
    const proto = protocolOf(expose.proto);
    if (proto === undefined) {
      problems.push(problem('SDL_PROTOCOL', 'unsupported service protocol', [...at, 'proto']));
      failed = true;
      return;
    }
    const http = httpOptionsOf(expose.httpOptions);
    if ('message' in http) {
      problems.push(problem('SDL_HTTP_OPTIONS', http.message, [...at, 'http_options', http.field]));
      failed = true;
      return;
    }
    if (expose.to.length === 0) {
      const entry: ServiceExpose = {
        port: expose.port,
        externalPort: expose.as,
        proto,
        service: '',
        global: false,
        hosts: expose.accept,
        httpOptions: http.value,
        ip: '',
        endpointSequenceNumber: 0,
      };
      origins.set(entry, at);
      out.push(entry);
      return;
    }
    expose.to.forEach((to) => {
      const entry: ServiceExpose = {
        port: expose.port,
        externalPort: expose.as,
        proto,
        service: to.service,
        global: to.global,
        hosts: expose.accept,
        httpOptions: http.value,
        ip: to.ip,
        endpointSequenceNumber: to.global && to.ip !== '' ? (seq.get(to.ip) ?? 0) : 0,
      };
      origins.set(entry, at);
      out.push(entry);
    });
  });
  return failed ? undefined : goSort(out, exposeLess);
}

/** manifest `ServiceExpose.IsIngress`: global TCP on (external) port 80. */
function isIngress(e: ServiceExpose): boolean {
  return e.proto === 'TCP' && e.global && (e.externalPort === 0 ? e.port : e.externalPort) === 80;
}

const seqLess = (a: ResourceEndpoint, b: ResourceEndpoint): boolean => a.sequence_number < b.sequence_number;

/**
 * `goSort(endpoints, seqLess)`, which Go runs each time a service joins a profile's resource unit (a 2.1 SDL whose
 * services share profiles sorts a growing list hundreds of times). Go's sort is not stable, so where two
 * endpoints with the same sequence number differ (an ingress and a random port, both 0) only its exact steps
 * give Go's order; where every such tie is between equal endpoints, every sorted order prints the same, and
 * the native sort gives one. It is checked on the result; the rare list with a real tie goes to Go's sort.
 */
export function sortedEndpoints(endpoints: readonly ResourceEndpoint[]): ResourceEndpoint[] {
  const sorted = [...endpoints].sort((a, b) => a.sequence_number - b.sequence_number);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.sequence_number === b.sequence_number && a.kind !== b.kind) return goSort(endpoints, seqLess);
  }
  return sorted;
}

/** manifest `ServiceExposes.GetEndpoints`: per global expose `[port kind, LEASED_IP]`, concatenated. */
function exposeEndpoints(exposes: readonly ServiceExpose[]): ResourceEndpoint[] {
  const out: ResourceEndpoint[] = [];
  for (const e of exposes) {
    if (!e.global) continue;
    const pair: ResourceEndpoint[] = [];
    if (e.ip !== '') pair.push({ kind: ENDPOINT_KIND.LEASED_IP, sequence_number: e.endpointSequenceNumber });
    pair.push(
      isIngress(e) ? { sequence_number: 0 } : { kind: ENDPOINT_KIND.RANDOM_PORT, sequence_number: 0 },
    );
    out.push(...goSort(pair, seqLess));
  }
  return out;
}

function attrs(list: readonly Attribute[] | null): { attributes?: readonly Attribute[] } {
  return list !== null && list.length > 0 ? { attributes: list } : {};
}

/** chain-sdk `v2ComputeResources.toResources`, with the given id and endpoints. */
function resourcesOf(
  compute: ComputeResourcesInput | undefined,
  id: number,
  endpoints: readonly ResourceEndpoint[],
): Resources {
  // A missing profile or resource only reaches here on the way to a validation error (Go leaves
  // the fields nil too); such a unit is never handed out.
  if (compute === undefined) return { id, endpoints } as unknown as Resources;
  const storage = (compute.storage ?? []).map((v) => ({
    name: v.name,
    size: { val: v.size.toString() },
    ...attrs(v.attributes),
  }));
  return {
    id,
    ...(compute.cpu === undefined
      ? {}
      : { cpu: { units: { val: String(compute.cpu.units) }, ...attrs(compute.cpu.attributes) } }),
    ...(compute.memory === undefined ? {} : { memory: { size: { val: compute.memory.size.toString() } } }),
    ...(storage.length === 0 ? {} : { storage }),
    gpu:
      compute.gpu === undefined
        ? { units: { val: '0' } }
        : { units: { val: compute.gpu.units.toString() }, ...attrs(compute.gpu.attributes) },
    endpoints,
  } as Resources;
}

/** Go `strings.TrimSpace` (Unicode White_Space, which is not JS's `trim` set). */
export function goTrimSpace(text: string): string {
  const space =
    /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
  return text.replace(space, '');
}

function credentialsOf(sdl: SdlInput, service: ServiceInput): Credentials | null {
  const c = service.credentials;
  if (c === undefined) return null;
  if (sdl.dialect === '2.0') return { host: c.host, email: '', username: c.username, password: c.password };
  return {
    host: goTrimSpace(c.host),
    email: goTrimSpace(c.email),
    username: goTrimSpace(c.username),
    password: goTrimSpace(c.password),
  };
}

function paramsOf(service: ServiceInput): ServiceParams | undefined {
  const p = service.params;
  if (p === undefined) return undefined;
  const storage =
    p.storage.size === 0
      ? null
      : sortedKeys(p.storage).map((name) => {
          const s = p.storage.get(name)!;
          return { name, mount: s.mount, readOnly: s.readOnly };
        });
  const read = p.permissions?.read;
  return {
    storage,
    ...(p.permissions === undefined
      ? {}
      : { permissions: read === null || read === undefined || read.length === 0 ? {} : { read } }),
    ...(p.tee === '' ? {} : { tee: { type: p.tee, attestation: true } }),
  };
}

const TEE_TYPES = new Set(['cpu', 'cpu-gpu']);

/** A unit's price; `undefined` when the placement has no usable coin for the profile. */
export type PriceRef = { readonly denom: string; readonly amount: bigint } | undefined;

interface GroupBuilder {
  readonly name: string;
  readonly requirements: GroupSpec['requirements'];
  attributes: readonly Attribute[] | null;
  teeType: string;
  readonly units: { resource: Resources; count: number; price: PriceRef }[];
  readonly bound: Map<string, number>;
  readonly services: ManifestService[];
}

/** The build's outputs, with the unit prices kept as numbers for the group checks. */
export interface Built {
  readonly manifest: ManifestGroup[];
  readonly groups: GroupSpec[];
  readonly unitPrices: readonly (readonly PriceRef[])[];
  readonly origins: ExposeOrigins;
}

/** chain-sdk `buildGroups`; on failure, every problem it can find (Go stops at the first). */
export function buildGroups(sdl: SdlInput): { ok: true; built: Built } | { ok: false; problems: Problem[] } {
  const seq = endpointSequenceNumbers(sdl);
  const groups = new Map<string, GroupBuilder>();
  const problems: Problem[] = [];
  const origins: ExposeOrigins = new Map();
  const exposeCache = new Map<string, ServiceExpose[] | undefined>();
  for (const svcName of sortedKeys(sdl.deployment)) {
    const depl = sdl.deployment.get(svcName)!;
    for (const placementName of sortedKeys(depl)) {
      const sd = depl.get(placementName)!;
      const compute = sdl.compute.get(sd.profile)?.resources;
      const service: ServiceInput = sdl.services.get(svcName) ?? EMPTY_SERVICE;
      const infra = sdl.placement.get(placementName);
      const coin = infra?.pricing.get(sd.profile);
      let group = groups.get(placementName);
      if (group === undefined) {
        group = {
          name: placementName,
          requirements: {
            signed_by: { all_of: infra?.signedBy.allOf ?? null, any_of: infra?.signedBy.anyOf ?? null },
            attributes: null,
          },
          attributes: infra?.attributes ?? null,
          teeType: '',
          units: [],
          bound: new Map(),
          services: [],
        };
        groups.set(placementName, group);
      }
      const tee = service.params?.tee ?? '';
      if (tee !== '') {
        const teePath = ['services', svcName, 'params', 'tee'];
        if (!TEE_TYPES.has(tee)) {
          problems.push(
            problem('SDL_TEE', `sdl: unsupported tee type: ${goQuote(tee)} (allowed: cpu, cpu-gpu)`, teePath),
          );
          continue;
        }
        const hasGpu = compute?.gpu !== undefined && compute.gpu.units > 0n;
        if (tee === 'cpu-gpu' && !hasGpu) {
          problems.push(
            problem(
              'SDL_TEE',
              `sdl: tee type requires gpu resources: ${goQuote(tee)} specified but no gpu resources defined`,
              teePath,
            ),
          );
          continue;
        }
        if (group.teeType !== '' && group.teeType !== tee) {
          problems.push(
            problem(
              'SDL_TEE',
              `sdl: conflicting tee types in the same placement group: group ${goQuote(placementName)} has ${goQuote(group.teeType)} and ${goQuote(tee)}`,
              teePath,
            ),
          );
          continue;
        }
        if (group.teeType === '') {
          group.teeType = tee;
          group.attributes = goSort(
            [...(group.attributes ?? []), { key: 'tee/type', value: tee }],
            (a, b) => a.key < b.key,
          );
        }
      }
      if (!exposeCache.has(svcName)) {
        exposeCache.set(svcName, manifestExposes(svcName, service.expose, seq, origins, problems));
      }
      const exposes = exposeCache.get(svcName);
      if (exposes === undefined) continue;
      const endpoints = exposeEndpoints(exposes);
      const price: PriceRef = coin === undefined || coin === null ? undefined : coin;
      let id: number;
      const location = sdl.dialect === '2.1' ? group.bound.get(sd.profile) : undefined;
      if (location === undefined) {
        id = group.units.length + 1;
        group.units.push({ resource: resourcesOf(compute, id, endpoints), count: sd.count, price });
        group.bound.set(sd.profile, group.units.length - 1);
      } else {
        const unit = group.units[location]!;
        id = unit.resource.id;
        unit.count += sd.count;
        unit.resource = {
          ...unit.resource,
          endpoints: sortedEndpoints([...unit.resource.endpoints, ...endpoints]),
        };
      }
      const params = paramsOf(service);
      group.services.push({
        name: svcName,
        image: service.image,
        command: service.command,
        args: service.args,
        env: service.env,
        resources: resourcesOf(compute, id, endpoints),
        count: sd.count,
        expose: exposes,
        ...(params === undefined ? {} : { params }),
        credentials: credentialsOf(sdl, service),
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };
  const names = sortedKeys(groups);
  const manifest: ManifestGroup[] = [];
  const specs: GroupSpec[] = [];
  const unitPrices: PriceRef[][] = [];
  for (const name of names) {
    const g = groups.get(name)!;
    // Go sorts a group's services by name. They are in that order already: added as the services are visited, in
    // name order, each at most once per group.
    manifest.push({ name, services: g.services });
    const units: ResourceUnit[] = g.units.map((u) => ({
      resource: u.resource,
      count: u.count,
      price: { denom: u.price?.denom ?? '', amount: formatLegacyDec(u.price?.amount ?? 0n) },
    }));
    specs.push({ name, requirements: { ...g.requirements, attributes: g.attributes }, resources: units });
    unitPrices.push(g.units.map((u) => u.price));
  }
  return { ok: true, built: { manifest, groups: specs, unitPrices, origins } };
}

const EMPTY_SERVICE: ServiceInput = {
  image: '',
  command: null,
  args: null,
  env: null,
  expose: [],
  params: undefined,
  credentials: undefined,
};

function dedupe(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path.join('\u0000')}\u0001${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
