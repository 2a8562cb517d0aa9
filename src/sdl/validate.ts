/**
 * The checks the Go reference runs after decoding, in its order: `validate()` (reclamation,
 * endpoints, profiles, credentials, IP exposes, storage), then `ValidateDeploymentGroups`, then
 * `Manifest.Validate`. Where Go stops at the first failure these collect every failure of the same
 * stage, in the order Go would meet them, so the first one reported is the one Go returns.
 */
import { type Built, goTrimSpace, sortedKeys } from './build.js';
import { attributesProblem } from './decode.js';
import { type Problem, problem } from './diagnostics.js';
import { formatLegacyDec, goQuote, parseGoBool, parseGoDuration } from './go-values.js';
import type { Attribute } from './manifest-types.js';
import type { SdlInput } from './model.js';

const ENDPOINT_NAME = /^[a-z]+[a-z0-9_-]+$/;

/** Options that change policy, not parsing. */
export interface CheckOptions {
  /** Key IP ports by effective external port (`as` or `port`) and normalised protocol, not Go's raw `as`/`proto`. */
  readonly strict: boolean;
}

/** chain-sdk `v2.validate()` / `v2_1.validate()`. */
export function validateSdl(sdl: SdlInput, options: CheckOptions): Problem[] {
  const problems: Problem[] = [];
  if (sdl.reclamation !== undefined) {
    const window = sdl.reclamation.minWindow;
    const parsed = parseGoDuration(window);
    const at = ['reclamation', 'min_window'];
    if (!parsed.ok) {
      problems.push(
        problem(
          'SDL_RECLAMATION',
          `SDL invalid: invalid reclamation min_window ${goQuote(window)}: ${parsed.message}`,
          at,
        ),
      );
    } else if (parsed.value <= 0n) {
      problems.push(problem('SDL_RECLAMATION', 'SDL invalid: reclamation min_window must be > 0', at));
    }
  }

  for (const [name, endpoint] of sdl.endpoints) {
    const at = ['endpoints', name];
    if (!ENDPOINT_NAME.test(name)) {
      problems.push(
        problem(
          'SDL_ENDPOINT_NAME',
          `SDL invalid: endpoint named ${goQuote(name)} is not a valid name`,
          at,
          true,
        ),
      );
    } else if (endpoint.kind === '') {
      problems.push(
        problem('SDL_ENDPOINT_KIND', `SDL invalid: endpoint named ${goQuote(name)} has no kind`, at),
      );
    } else if (endpoint.kind !== 'ip') {
      problems.push(
        problem(
          'SDL_ENDPOINT_KIND',
          `SDL invalid: endpoint named ${goQuote(name)}, unknown kind ${goQuote(endpoint.kind)}`,
          [...at, 'kind'],
        ),
      );
    }
  }

  const used = new Set<string>();
  const ports = new Map<string, string>();
  for (const svcName of sortedKeys(sdl.deployment)) {
    const depl = sdl.deployment.get(svcName)!;
    // Go marks an endpoint used only past the profile checks below; for a valid file that is every deployed
    // service, so marking them all up front changes nothing there, while one misspelt profile no longer
    // also reports the endpoints its service uses as unused.
    for (const expose of sdl.services.get(svcName)?.expose ?? []) {
      for (const to of expose.to) if (sdl.endpoints.has(to.ip)) used.add(to.ip);
    }
    for (const placementName of sortedKeys(depl)) {
      const sd = depl.get(placementName)!;
      const where = `${svcName}.${placementName}`;
      const deplPath = ['deployment', svcName, placementName];
      const compute = sdl.compute.get(sd.profile);
      if (compute === undefined) {
        problems.push(
          problem('SDL_PROFILE', `SDL invalid: ${where}: no compute profile named ${sd.profile}`, [
            ...deplPath,
            'profile',
          ]),
        );
        continue;
      }
      const infra = sdl.placement.get(placementName);
      if (infra === undefined) {
        problems.push(
          problem(
            'SDL_PROFILE',
            `SDL invalid: ${where}: no placement profile named ${placementName}`,
            deplPath,
            true,
          ),
        );
        continue;
      }
      if (!infra.pricing.has(sd.profile)) {
        problems.push(
          problem('SDL_PROFILE', `SDL invalid: ${where}: no pricing for profile ${sd.profile}`, [
            ...deplPath,
            'profile',
          ]),
        );
        continue;
      }
      const svc = sdl.services.get(svcName);
      if (svc === undefined) {
        problems.push(
          problem(
            'SDL_PROFILE',
            `SDL invalid: ${where}: no service profile named ${svcName}`,
            ['deployment', svcName],
            true,
          ),
        );
        continue;
      }
      const credentialsProblem =
        svc.credentials === undefined ? undefined : credentialsMissing(svc.credentials);
      if (credentialsProblem !== undefined) {
        problems.push(
          problem('SDL_CREDENTIALS', `SDL invalid: ${where}: ${credentialsProblem}`, [
            'services',
            svcName,
            'credentials',
          ]),
        );
      }

      svc.expose.forEach((expose, i) => {
        expose.to.forEach((to, j) => {
          if (to.ip === '') return;
          const at = ['services', svcName, 'expose', i, 'to', j];
          if (!to.global) {
            problems.push(
              problem(
                'SDL_IP_NOT_GLOBAL',
                `SDL invalid: error on ${goQuote(svcName)} if an IP is declared the directive must be declared as global`,
                at,
              ),
            );
            return;
          }
          if (!sdl.endpoints.has(to.ip)) {
            problems.push(
              problem(
                'SDL_ENDPOINT_UNDECLARED',
                `SDL invalid: error on service ${goQuote(svcName)} no endpoint named ${goQuote(to.ip)} exists`,
                [...at, 'ip'],
              ),
            );
            return;
          }
          const key = options.strict
            ? `${to.ip}-${expose.as === 0 ? expose.port : expose.as}-${expose.proto.toUpperCase() === 'UDP' ? 'UDP' : 'TCP'}`
            : `${to.ip}-${expose.as}-${expose.proto}`;
          const other = ports.get(key);
          if (other !== undefined) {
            problems.push(
              problem(
                'SDL_ENDPOINT_PORT_IN_USE',
                `SDL invalid: IP endpoint ${goQuote(to.ip)} port: ${expose.port} protocol: ${expose.proto} specified by service ${goQuote(svcName)} already in use by ${goQuote(other)}`,
                [...at, 'ip'],
              ),
            );
            return;
          }
          ports.set(key, svcName);
        });
      });

      problems.push(...storageProblems(sdl, svcName, sd.profile));
    }
  }

  for (const name of sdl.endpoints.keys()) {
    if (!used.has(name)) {
      problems.push(
        problem(
          'SDL_ENDPOINT_UNUSED',
          `SDL invalid: endpoint ${goQuote(name)} declared but never used`,
          ['endpoints', name],
          true,
        ),
      );
    }
  }
  return problems;
}

function credentialsMissing(c: { host: string; username: string; password: string }): string | undefined {
  if (goTrimSpace(c.host) === '') return 'service Credentials missing Host';
  if (goTrimSpace(c.username) === '') return 'service Credentials missing Username';
  if (goTrimSpace(c.password) === '') return 'service Credentials missing Password';
  return undefined;
}

/** The storage part of `validate()`, which differs between v2.0 and v2.1. */
function storageProblems(sdl: SdlInput, svcName: string, profile: string): Problem[] {
  const resources = sdl.compute.get(profile)?.resources;
  const svc = sdl.services.get(svcName)!;
  if (resources === undefined) {
    // Go dereferences the missing resources and panics here.
    return [
      problem('SDL_RESOURCES', `SDL invalid: compute profile ${goQuote(profile)} has no resources`, [
        'profiles',
        'compute',
        profile,
      ]),
    ];
  }
  const volumes = new Map((resources.storage ?? []).map((v) => [v.name, v]));
  const storageParams = svc.params?.storage ?? new Map();
  const paramsPath = ['services', svcName, 'params', 'storage'];
  const out: Problem[] = [];
  const mounts = new Map<string, string>();
  for (const name of sortedKeys(storageParams)) {
    const params = storageParams.get(name)!;
    const volume = volumes.get(name);
    if (volume === undefined) {
      out.push(
        problem(
          'SDL_STORAGE',
          `SDL invalid: service "${svcName}" references to no-existing compute volume named "${name}"`,
          [...paramsPath, name],
          true,
        ),
      );
      continue;
    }
    if (!params.mount.startsWith('/')) {
      out.push(
        problem(
          'SDL_STORAGE',
          `SDL invalid: invalid value for "service.${svcName}.params.${name}.mount" parameter. expected absolute path`,
          [...paramsPath, name, 'mount'],
        ),
      );
      continue;
    }
    const other = mounts.get(params.mount);
    if (other !== undefined) {
      out.push(
        problem(
          'SDL_STORAGE',
          `sdl: duplicated mount point: mount ${goQuote(params.mount)} already in use by volume ${goQuote(other)}`,
          [...paramsPath, name, 'mount'],
        ),
      );
      continue;
    }
    mounts.set(params.mount, name);
    const cls = volume.attributes?.find((a) => a.key === 'class')?.value ?? '';
    if (sdl.dialect === '2.1' && cls === 'ram' && params.readOnly) {
      out.push(
        problem(
          'SDL_STORAGE',
          `SDL invalid: services.${svcName}.params.storage.${name} has readOnly=true which is not allowed for storage class "${cls}"`,
          [...paramsPath, name, 'readOnly'],
        ),
      );
    }
  }
  // v2.0 checks persistence against every volume but with one shared mount flag: a persistent
  // volume passes as soon as any storage parameter exists. v2.1 only checks volumes with params.
  if (sdl.dialect === '2.0' && storageParams.size === 0) {
    const persistent = (resources.storage ?? []).find((v) =>
      parseGoBool(v.attributes?.find((a) => a.key === 'persistent')?.value ?? ''),
    );
    if (persistent !== undefined) {
      const at = [
        'profiles',
        'compute',
        profile,
        'resources',
        'storage',
        ...(persistent.index === -1 ? [] : [persistent.index]),
      ];
      out.push(
        problem(
          'SDL_STORAGE',
          `SDL invalid: compute.storage.${persistent.name} has persistent=true which requires service.${svcName}.params.storage.${persistent.name} to have mount`,
          at,
        ),
      );
    }
  }
  return out;
}

const UNIT = { Mi: 1024n ** 2n, Ti: 1024n ** 4n };
const MAX_UNIT_CPU = 384_000n;
const MAX_UNIT_GPU = 24n;
const MAX_UNIT_MEMORY = 2n * UNIT.Ti;
const MAX_UNIT_STORAGE = 32n * UNIT.Ti;
const MAX_UNIT_COUNT = 50n;
const MAX_UNIT_PRICE = 10_000_000n * 10n ** 18n;
const DENOM = /^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$/;

/** deployment `ValidateDeploymentGroups` over the built group specs. */
export function validateGroups(sdl: SdlInput, built: Built): Problem[] {
  const groupPath = (name: string) => ['profiles', 'placement', name];
  if (built.groups.length === 0) return [problem('SDL_INVALID', 'Invalid groups', ['deployment'], true)];
  const out: Problem[] = [];
  let denom: string | undefined;
  built.groups.forEach((group, g) => {
    const prices = built.unitPrices[g]!;
    const at = groupPath(group.name);
    const denoms = new Set(prices.map((p) => p?.denom ?? ''));
    if (denoms.size > 1) {
      const [a, b] = [...denoms];
      out.push(problem('SDL_PRICE', `multi-denonimation group: (${b} == ${a} fails)`, [...at, 'pricing']));
      return;
    }
    const groupDenom = prices[0]?.denom ?? '';
    if (denom === undefined) denom = groupDenom;
    else if (groupDenom !== denom) {
      out.push(
        problem('SDL_PRICE', `inconsistent group denomination: ${denom} != ${groupDenom}: invalid price`, [
          ...at,
          'pricing',
        ]),
      );
      return;
    }
    if (group.name === '') {
      out.push(problem('SDL_INVALID', 'empty group spec name denomination', at, true));
      return;
    }
    let failed = false;
    for (const unit of group.resources) {
      const problemText = unitProblem(unit.resource);
      if (problemText !== undefined) {
        out.push(problem('SDL_RESOURCES', problemText, unitPath(sdl, group.name, unit.resource.id)));
        failed = true;
        break;
      }
    }
    if (failed) return;
    let cpu = 0n;
    let gpu = 0n;
    let memory = 0n;
    for (const unit of group.resources) {
      const count = BigInt(unit.count);
      cpu += BigInt(unit.resource.cpu.units.val) * count;
      gpu += BigInt(unit.resource.gpu.units.val) * count;
      memory += BigInt(unit.resource.memory.size.val) * count;
    }
    const totalAt = ['deployment'];
    if (cpu > MAX_UNIT_CPU * MAX_UNIT_COUNT || cpu <= 0n) {
      out.push(
        problem(
          'SDL_RESOURCES',
          `invalid total CPU (${MAX_UNIT_CPU * MAX_UNIT_COUNT} > ${cpu} > 0 fails)`,
          totalAt,
          true,
        ),
      );
      return;
    }
    if (gpu !== 0n && gpu > MAX_UNIT_GPU * MAX_UNIT_COUNT) {
      out.push(
        problem(
          'SDL_RESOURCES',
          `invalid total GPU (${MAX_UNIT_GPU * MAX_UNIT_COUNT} > ${gpu} > 0 fails)`,
          totalAt,
          true,
        ),
      );
      return;
    }
    if (memory > MAX_UNIT_MEMORY * MAX_UNIT_COUNT || memory <= 0n) {
      out.push(
        problem(
          'SDL_RESOURCES',
          `invalid total memory (${MAX_UNIT_MEMORY * MAX_UNIT_COUNT} > ${memory} > 0 fails)`,
          totalAt,
          true,
        ),
      );
      return;
    }
    for (const price of prices) {
      if (price === undefined || !DENOM.test(price.denom) || price.amount < 0n) {
        out.push(
          problem('SDL_PRICE', `group ${group.name}: error: invalid price object`, [...at, 'pricing']),
        );
        return;
      }
      if (price.amount > MAX_UNIT_PRICE) {
        out.push(
          problem(
            'SDL_PRICE',
            `group ${group.name}: error: invalid unit price (10000000 > ${formatLegacyDec(price.amount)}${price.denom} fails)`,
            [...at, 'pricing'],
          ),
        );
        return;
      }
    }
  });
  return out;
}

/** The SDL path behind a resource unit: the compute profile of its first service. */
function unitPath(sdl: SdlInput, placement: string, id: number): (string | number)[] {
  const profiles: string[] = [];
  for (const svcName of sortedKeys(sdl.deployment)) {
    const sd = sdl.deployment.get(svcName)!.get(placement);
    if (sd !== undefined && !profiles.includes(sd.profile)) profiles.push(sd.profile);
  }
  const profile = sdl.dialect === '2.1' ? profiles[id - 1] : undefined;
  if (profile !== undefined) return ['profiles', 'compute', profile, 'resources'];
  let n = 0;
  for (const svcName of sortedKeys(sdl.deployment)) {
    const sd = sdl.deployment.get(svcName)!.get(placement);
    if (sd === undefined) continue;
    n++;
    if (n === id) return ['profiles', 'compute', sd.profile, 'resources'];
  }
  return ['profiles', 'compute'];
}

/** deployment `validateResources` for one unit. */
function unitProblem(r: {
  cpu?: { units: { val: string }; attributes?: readonly Attribute[] };
  gpu?: { units: { val: string }; attributes?: readonly Attribute[] };
  memory?: { size: { val: string } };
  storage?: readonly { size: { val: string }; attributes?: readonly Attribute[] }[];
}): string | undefined {
  if (r.cpu === undefined) return 'error: invalid unit CPU, cannot be nil';
  const cpu = BigInt(r.cpu.units.val);
  if (cpu > MAX_UNIT_CPU || cpu < 10n)
    return `error: invalid unit CPU (${MAX_UNIT_CPU} > ${cpu} > ${MAX_UNIT_CPU} fails)`;
  const cpuAttrs = attributesProblem(r.cpu.attributes ?? []);
  if (cpuAttrs !== undefined) return `error: invalid CPU attributes: ${cpuAttrs}`;
  if (r.gpu === undefined) return 'error: invalid unit GPU, cannot be nil';
  const gpu = BigInt(r.gpu.units.val);
  if (gpu > MAX_UNIT_GPU) return `error: invalid unit GPU (${MAX_UNIT_GPU} > ${gpu} > ${MAX_UNIT_GPU} fails)`;
  if (gpu === 0n && (r.gpu.attributes?.length ?? 0) > 0) {
    return 'error: invalid GPU state. attributes cannot be present if units == 0';
  }
  const gpuAttrs = attributesProblem(r.gpu.attributes ?? []);
  if (gpuAttrs !== undefined) return `error: invalid GPU attributes: ${gpuAttrs}`;
  if (r.memory === undefined) return 'error: invalid unit memory, cannot be nil';
  const memory = BigInt(r.memory.size.val);
  if (memory > MAX_UNIT_MEMORY || memory < UNIT.Mi) {
    return `error: invalid unit memory (${MAX_UNIT_MEMORY} > ${memory} > ${MAX_UNIT_MEMORY} fails)`;
  }
  if (r.storage === undefined) return 'error: invalid unit storage, cannot be nil';
  for (const volume of r.storage) {
    const size = BigInt(volume.size.val);
    if (size > MAX_UNIT_STORAGE || size < 5n * UNIT.Mi) {
      return `error: invalid unit storage (${MAX_UNIT_STORAGE} > ${size} > ${5n * UNIT.Mi} fails)`;
    }
    const storageAttrs = attributesProblem(volume.attributes ?? []);
    if (storageAttrs !== undefined) return `error: invalid Storage attributes: ${storageAttrs}`;
  }
  return undefined;
}

const SERVICE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validEnvName(name: string): boolean {
  return ENV_NAME.test(name) && name !== '.' && !name.startsWith('..');
}

function validHostname(host: string): boolean {
  return host.length <= 253 && DNS_SUBDOMAIN.test(host);
}

/** manifest `Manifest.Validate`. */
export function validateManifest(built: Built): Problem[] {
  const out: Problem[] = [];
  const hostnames = new Set<string>();
  let globals = 0;
  for (const group of built.manifest) {
    for (const svc of group.services) {
      const svcPath = ['services', svc.name];
      if (svc.name === '') {
        out.push(problem('SDL_MANIFEST', 'invalid manifest: service name is empty', svcPath, true));
        continue;
      }
      if (!SERVICE_NAME.test(svc.name)) {
        out.push(
          problem(
            'SDL_MANIFEST',
            `invalid manifest: service ${goQuote(svc.name)} name is invalid`,
            svcPath,
            true,
          ),
        );
        continue;
      }
      if (svc.image === '') {
        out.push(
          problem('SDL_MANIFEST', `invalid manifest: service ${goQuote(svc.name)} has empty image name`, [
            ...svcPath,
            'image',
          ]),
        );
        continue;
      }
      const badEnv = (svc.env ?? []).findIndex((env) => !validEnvName(env.split('=')[0]!));
      if (badEnv !== -1) {
        const name = svc.env![badEnv]!.split('=')[0]!;
        out.push(
          problem(
            'SDL_MANIFEST',
            `invalid manifest: service ${goQuote(svc.name)} defines an env. var. with an invalid name ${goQuote(name)}`,
            [...svcPath, 'env', badEnv],
          ),
        );
        continue;
      }
      for (const expose of svc.expose) {
        const origin = built.origins.get(expose) ?? svcPath;
        // Quoted only when a problem is reported: a manifest has hundreds of exposes and nearly always none.
        const prefix = (): string => `invalid manifest: service ${goQuote(svc.name)}: `;
        if (expose.port === 0 || expose.port > 65535) {
          out.push(
            problem('SDL_PORT_RANGE', `${prefix()}port value must be 0 < value <= 65535 `, [
              ...origin,
              'port',
            ]),
          );
          break;
        }
        if (expose.global) globals++;
        let failed = false;
        for (const [k, host] of (expose.hosts ?? []).entries()) {
          if (!validHostname(host)) {
            out.push(
              problem('SDL_HOSTNAME', `${prefix()}has invalid hostname ${goQuote(host)}`, [
                ...origin,
                'accept',
                k,
              ]),
            );
            failed = true;
            break;
          }
          if (hostnames.has(host)) {
            out.push(
              problem(
                'SDL_HOSTNAME',
                `${prefix()}hostname ${goQuote(host)} is duplicated, this is not allowed`,
                [...origin, 'accept', k],
              ),
            );
            failed = true;
            break;
          }
          hostnames.add(host);
        }
        if (failed) break;
      }
    }
  }
  if (out.length === 0 && globals === 0) {
    out.push(problem('SDL_MANIFEST', 'invalid manifest: zero global services', ['services'], true));
  }
  return out;
}
