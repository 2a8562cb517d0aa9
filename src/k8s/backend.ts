/**
 * The Kubernetes + MetalLB backend: makes the cluster hold what the lease engine decided. It owns only
 * objects carrying its managed-by label, scopes every delete by all five lease labels (re-checked on each
 * object before it goes), and handles each lease on its own, so one lease the server refuses does not
 * stop the others.
 */

import { z } from 'zod';
import { DSEQ_RULE, isDseq } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { PoolSpec } from '../ipam/index.js';
import {
  type Declaration,
  type LeaseId,
  type LeaseView,
  leaseKey,
  type PoolSyncResult,
  type RealizedLease,
  type RealizedPort,
  type Realizer,
  type ReconcileResult,
  type WriteCounts,
} from '../lease/index.js';
import { KubeClient, type MalformedObject, rejectedStatus } from './client.js';
import { ServiceWarnings } from './events.js';
import type { KubeGateway } from './gateway.js';
import type { InformerLogger } from './informer.js';
import {
  AKASH_GROUP,
  ENDPOINT_ANNOTATION,
  isObjectName,
  LABEL,
  LEASED_IP_PLURAL,
  LEASED_IP_VERSION,
  leaseLabels,
  MANAGED_BY,
  METALLB,
  selectorOf,
} from './names.js';
import {
  type DesiredPort,
  desiredPorts,
  familiesDiffer,
  leasedIpBody,
  leasedIpMatches,
  leasedIpPath,
  ownedLabels,
  poolBody,
  poolMatches,
  poolPath,
  serviceBody,
  serviceMatches,
  servicePatch,
  servicePath,
} from './objects.js';
import {
  crdSchema,
  ipAddressPoolSchema,
  type LeasedIpObject,
  leasedIpSchema,
  type ObjectMeta,
  type ServiceObject,
  serviceSchema,
} from './schemas.js';

export interface KubeBackendOptions {
  readonly gateway: KubeGateway;
  /** This provider's address: only its leases' objects are read back. */
  readonly provider: string;
  /** Namespace of the `ProviderLeasedIP` objects (Go's `--k8s-manifest-ns`); default `lease`. */
  readonly namespace?: string;
  /** Namespace MetalLB reads its pools from; default `metallb-system`. */
  readonly metallbNamespace?: string;
  /** How long {@link KubeBackend.prepare} waits for the CRD to be served; default 30 000 ms. */
  readonly crdTimeoutMs?: number;
  /** Where the watch of MetalLB's Warnings reports its failures. */
  readonly logger?: InformerLogger;
}

/** The backend's state rebuilt from the cluster. */
export interface ClusterState {
  /** Leases with an address MetalLB already assigned come first, as MetalLB replays them at start. */
  readonly leases: readonly RealizedLease[];
  /** Objects with our label that do not parse; left alone and reported. */
  readonly malformed: readonly MalformedObject[];
}

const NO_WRITES: WriteCounts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };

/** A lease's objects as listed: its `ProviderLeasedIP`s and its Services. */
interface LeaseObjects {
  readonly resources: readonly LeasedIpObject[];
  readonly services: readonly ServiceObject[];
}

const NO_OBJECTS: LeaseObjects = { resources: [], services: [] };

function add(a: WriteCounts, b: WriteCounts): WriteCounts {
  return {
    created: a.created + b.created,
    updated: a.updated + b.updated,
    deleted: a.deleted + b.deleted,
    unchanged: a.unchanged + b.unchanged,
  };
}

const leaseLabelSchema = z.object({
  [LABEL.owner]: z.string().min(1),
  [LABEL.dseq]: z.string().refine(isDseq, DSEQ_RULE),
  [LABEL.gseq]: z.string().regex(/^\d{1,10}$/),
  [LABEL.oseq]: z.string().regex(/^\d{1,10}$/),
  [LABEL.provider]: z.string().min(1),
});

function leaseIdOf(meta: ObjectMeta): LeaseId | undefined {
  const parsed = leaseLabelSchema.safeParse(meta.labels ?? {});
  if (!parsed.success) return undefined;
  const labels = parsed.data;
  return {
    owner: labels[LABEL.owner],
    dseq: labels[LABEL.dseq],
    gseq: Number(labels[LABEL.gseq]),
    oseq: Number(labels[LABEL.oseq]),
    provider: labels[LABEL.provider],
  };
}

/** True when the object carries exactly this lease's labels and ours: the last check before a delete. */
function belongsTo(meta: ObjectMeta, id: LeaseId): boolean {
  const labels = meta.labels ?? {};
  return (
    labels[LABEL.managedBy] === MANAGED_BY &&
    Object.entries(leaseLabels(id)).every(([key, value]) => labels[key] === value)
  );
}

function portKey(endpoint: string, externalPort: number, protocol: string): string {
  return `${endpoint}/${externalPort}/${protocol}`;
}

function ingressOf(service: ServiceObject): readonly string[] {
  return (service.status?.loadBalancer?.ingress ?? []).flatMap((entry) =>
    entry.ip === undefined ? [] : [entry.ip],
  );
}

function splitAddresses(text: string | undefined): readonly string[] {
  return text === undefined || text === '' ? [] : text.split(',').map((part) => part.trim());
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}

/** The Go provider's CRD, with `endpoint` and `address` added to v2beta2 (additive: Go readers ignore them). */
function crdBody() {
  const leaseId = {
    type: 'object',
    properties: {
      owner: { type: 'string' },
      dseq: { type: 'string', format: 'uint64' },
      gseq: { type: 'integer' },
      oseq: { type: 'integer' },
      provider: { type: 'string' },
    },
  };
  const goSpec = {
    lease_id: leaseId,
    service_name: { type: 'string' },
    port: { type: 'integer' },
    external_port: { type: 'integer' },
    protocol: { type: 'string' },
    sharing_key: { type: 'string' },
  };
  const schema = (properties: object) => ({
    openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties } } },
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${LEASED_IP_PLURAL}.${AKASH_GROUP}`,
      annotations: { 'helm.sh/resource-policy': 'keep' },
    },
    spec: {
      group: AKASH_GROUP,
      scope: 'Namespaced',
      names: {
        plural: LEASED_IP_PLURAL,
        singular: 'providerleasedip',
        kind: 'ProviderLeasedIP',
        shortNames: ['plip'],
      },
      versions: [
        {
          name: LEASED_IP_VERSION,
          served: true,
          storage: true,
          schema: schema({ ...goSpec, endpoint: { type: 'string' }, address: { type: 'string' } }),
        },
        { name: 'v2beta1', served: false, storage: false, schema: schema(goSpec) },
      ],
    },
  };
}

const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${LEASED_IP_PLURAL}.${AKASH_GROUP}`;

function hasOurFields(crd: z.infer<typeof crdSchema>): boolean {
  const version = crd.spec.versions.find((v) => v.name === LEASED_IP_VERSION);
  const text = JSON.stringify(version?.schema ?? {});
  return version?.served === true && text.includes('"endpoint"') && text.includes('"address"');
}

/** Waits between polls of the CRD's Established condition. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class KubeBackend implements Realizer {
  readonly #client: KubeClient;
  readonly #provider: string;
  readonly #namespace: string;
  readonly #metallbNamespace: string;
  readonly #crdTimeoutMs: number;
  /** MetalLB's reasons for the ports {@link status} finds unconfirmed, kept by one list + watch. */
  readonly #warnings: ServiceWarnings;
  /** The cluster as last read or written, by lease key. */
  #state = new Map<string, RealizedLease>();

  constructor(options: KubeBackendOptions) {
    this.#client = new KubeClient(options.gateway);
    this.#provider = options.provider;
    this.#namespace = options.namespace ?? 'lease';
    this.#metallbNamespace = options.metallbNamespace ?? 'metallb-system';
    this.#crdTimeoutMs = options.crdTimeoutMs ?? 30_000;
    this.#warnings = new ServiceWarnings({
      gateway: options.gateway,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  /** Starts following MetalLB's Warnings on Services, so {@link status} gives reasons without a read per port. */
  start(): void {
    this.#warnings.start();
  }

  /** Stops following them; resolves once the watch has ended. */
  stop(): Promise<void> {
    return this.#warnings.stop();
  }

  /** Installs (or upgrades in place) the `ProviderLeasedIP` CRD and the manifest namespace, and waits until served. */
  async prepare(): Promise<Result<void>> {
    const existing = await this.#client.get(crdSchema, CRD_PATH);
    if (!existing.ok) return existing;
    const body = crdBody();
    if (existing.value === undefined) {
      const created = await this.#client.create(
        crdSchema,
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        body,
      );
      if (!created.ok && rejectedStatus(created.error) !== 409) return created;
    } else if (!hasOurFields(existing.value)) {
      const patched = await this.#client.patch(crdSchema, CRD_PATH, {
        spec: { versions: body.spec.versions },
      });
      if (!patched.ok) return patched;
    }
    const namespace = await this.#ensureNamespace(this.#namespace, { [LABEL.managedBy]: MANAGED_BY });
    if (!namespace.ok) return namespace;
    const deadline = Date.now() + this.#crdTimeoutMs;
    for (;;) {
      const crd = await this.#client.get(crdSchema, CRD_PATH);
      if (!crd.ok) return crd;
      const established = crd.value?.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (established === true) return ok(undefined);
      if (Date.now() > deadline) {
        return fail(
          appError(
            'K8S_UNAVAILABLE',
            `CRD ${LEASED_IP_PLURAL}.${AKASH_GROUP} not established after ${this.#crdTimeoutMs} ms`,
          ),
        );
      }
      await pause(100);
    }
  }

  /**
   * Makes MetalLB's pools mirror ours: creates and updates one `IPAddressPool` per pool and deletes the
   * pools this backend made that are no longer configured. Pools it did not make are never touched.
   */
  async syncPools(pools: readonly PoolSpec[]): Promise<Result<PoolSyncResult>> {
    for (const pool of pools) {
      if (!isObjectName(pool.name)) {
        return fail(
          appError('INVALID_INPUT', `pool name "${pool.name}" is not a valid Kubernetes object name`),
        );
      }
    }
    const path = poolPath(this.#metallbNamespace);
    const listed = await this.#client.list(
      ipAddressPoolSchema,
      path,
      selectorOf({ [LABEL.managedBy]: MANAGED_BY }),
    );
    if (!listed.ok) return listed;
    const have = new Map(listed.value.items.map((pool) => [pool.metadata.name, pool]));
    const result = { created: [] as string[], updated: [] as string[], deleted: [] as string[] };
    const wanted = new Set(pools.map((pool) => pool.name));
    // Deletes first: MetalLB refuses the whole configuration while two pools overlap.
    for (const [name, pool] of have) {
      if (wanted.has(name)) continue;
      const deleted = await this.#client.delete(poolPath(this.#metallbNamespace, name), pool.metadata.uid);
      if (!deleted.ok) return deleted;
      result.deleted.push(name);
    }
    for (const pool of pools) {
      const want = poolBody(pool, this.#metallbNamespace);
      const existing = have.get(pool.name);
      if (existing === undefined) {
        const created = await this.#client.create(ipAddressPoolSchema, path, want);
        if (!created.ok) return created;
        result.created.push(pool.name);
      } else if (!poolMatches(existing, want)) {
        const patched = await this.#client.patch(
          ipAddressPoolSchema,
          poolPath(this.#metallbNamespace, pool.name),
          {
            spec: want.spec,
          },
        );
        if (!patched.ok) return patched;
        result.updated.push(pool.name);
      }
    }
    return ok(result);
  }

  /** Reads every object of this provider back and rebuilds the backend's state from them. */
  async rebuild(): Promise<Result<ClusterState>> {
    const read = await this.#read();
    return read.ok ? ok(read.value.state) : read;
  }

  /** {@link rebuild}, keeping each lease's objects so a reconcile can compare them without listing again. */
  async #read(): Promise<Result<{ state: ClusterState; objects: ReadonlyMap<string, LeaseObjects> }>> {
    const selector = selectorOf({ [LABEL.managedBy]: MANAGED_BY, [LABEL.provider]: this.#provider });
    const resources = await this.#client.list(leasedIpSchema, leasedIpPath(this.#namespace), selector);
    if (!resources.ok) return resources;
    const services = await this.#client.list(serviceSchema, '/api/v1/services', selector);
    if (!services.ok) return services;
    const malformed = [...resources.value.malformed, ...services.value.malformed];
    const byLease = new Map<
      string,
      { id: LeaseId; resources: LeasedIpObject[]; services: ServiceObject[] }
    >();
    const bucket = (meta: ObjectMeta, path: string) => {
      const id = leaseIdOf(meta);
      if (id === undefined) {
        malformed.push({ path, name: meta.name, problem: 'lease labels missing or malformed' });
        return undefined;
      }
      const key = leaseKey(id);
      const entry = byLease.get(key) ?? { id, resources: [], services: [] };
      byLease.set(key, entry);
      return entry;
    };
    for (const resource of resources.value.items)
      bucket(resource.metadata, leasedIpPath(this.#namespace))?.resources.push(resource);
    for (const service of services.value.items)
      bucket(service.metadata, '/api/v1/services')?.services.push(service);
    const leases = [...byLease.values()].map((entry) => realize(entry.id, entry.resources, entry.services));
    // Already-assigned leases first, as MetalLB replays assigned Services before the rest at start-up.
    leases.sort(
      (a, b) =>
        Number(assignedAny(b)) - Number(assignedAny(a)) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    this.#state = new Map(leases.map((lease) => [lease.key, lease]));
    return ok({ state: { leases, malformed }, objects: byLease });
  }

  /** The backend's state as last rebuilt or written, by lease key. */
  observed(): ReadonlyMap<string, RealizedLease> {
    return this.#state;
  }

  /** Makes one lease's objects match its view; a closed lease loses them all. */
  async apply(lease: LeaseView): Promise<Result<WriteCounts>> {
    return this.#applyLease(lease.id, desiredPorts(lease));
  }

  /** Deletes exactly this lease's Services and `ProviderLeasedIP` objects; other leases' are never listed for deletion. */
  async remove(id: LeaseId): Promise<Result<WriteCounts>> {
    return this.#applyLease(id, []);
  }

  /**
   * Full sync: every lease in `leases` is applied, and every lease of this provider found in the cluster but
   * absent from `leases` (or closed) is removed. Removals run first, so a migrated endpoint's ports are free
   * before its new lease claims them; then leases MetalLB already serves go before the rest.
   */
  async reconcile(
    leases: readonly LeaseView[],
    writing?: (lease: string) => void,
  ): Promise<Result<ReconcileResult>> {
    const current = await this.#read();
    if (!current.ok) return current;
    const { state, objects } = current.value;
    const wanted = new Map(
      leases.filter((lease) => lease.state === 'active').map((lease) => [leaseKey(lease.id), lease]),
    );
    let writes = NO_WRITES;
    const changed: { lease: string; writes: WriteCounts }[] = [];
    const failures: { lease: string; error: AppError }[] = [];
    // Each lease is compared with the objects just read, so a cluster already right costs two lists in all.
    const run = async (id: LeaseId, ports: readonly DesiredPort[]) => {
      const key = leaseKey(id);
      writing?.(key);
      const result = await this.#write(id, ports, objects.get(key) ?? NO_OBJECTS);
      if (!result.ok) {
        failures.push({ lease: key, error: result.error });
        return;
      }
      writes = add(writes, result.value);
      if (result.value.created + result.value.updated + result.value.deleted > 0)
        changed.push({ lease: key, writes: result.value });
    };
    for (const realized of state.leases) {
      if (!wanted.has(realized.key)) await run(realized.id, []);
    }
    const order = [...wanted.values()].sort(
      (a, b) => Number(this.#isAssigned(leaseKey(b.id))) - Number(this.#isAssigned(leaseKey(a.id))),
    );
    for (const lease of order) await run(lease.id, desiredPorts(lease));
    return ok({ writes, changed, failures });
  }

  /**
   * The lease's objects as the cluster holds them now, with MetalLB's confirmation and, for a port it has not
   * confirmed, its reason as last watched (see {@link start}): two lists, however many ports wait.
   */
  async status(id: LeaseId): Promise<Result<RealizedLease>> {
    const objects = await this.#listLease(id);
    if (!objects.ok) return objects;
    const realized = realize(id, objects.value.resources, objects.value.services);
    this.#remember(realized);
    const uids = new Map(
      objects.value.services.map((service) => [
        `${service.metadata.namespace}/${service.metadata.name}`,
        service.metadata.uid,
      ]),
    );
    const ports = realized.ports.map((port): RealizedPort => {
      if (port.confirmed || port.service === undefined) return port;
      const problem = this.#warnings.latest(port.service, uids.get(port.service));
      return problem === undefined ? port : { ...port, problem };
    });
    return ok({ ...realized, ports });
  }

  #isAssigned(key: string): boolean {
    const lease = this.#state.get(key);
    return lease !== undefined && assignedAny(lease);
  }

  #remember(lease: RealizedLease): void {
    if (lease.ports.length === 0) this.#state.delete(lease.key);
    else this.#state.set(lease.key, lease);
  }

  async #listLease(id: LeaseId): Promise<Result<{ resources: LeasedIpObject[]; services: ServiceObject[] }>> {
    const selector = selectorOf({ ...leaseLabels(id), [LABEL.managedBy]: MANAGED_BY });
    const resources = await this.#client.list(leasedIpSchema, leasedIpPath(this.#namespace), selector);
    if (!resources.ok) return resources;
    // Cluster-wide: a Service left in another namespace (a renamed namespace scheme) is still this lease's.
    const services = await this.#client.list(serviceSchema, '/api/v1/services', selector);
    if (!services.ok) return services;
    return ok({
      resources: resources.value.items.filter((item) => belongsTo(item.metadata, id)),
      services: services.value.items.filter((item) => belongsTo(item.metadata, id)),
    });
  }

  async #ensureNamespace(name: string, labels: Record<string, string>): Promise<Result<void>> {
    const path = `/api/v1/namespaces/${name}`;
    const existing = await this.#client.get(z.object({ metadata: z.object({ name: z.string() }) }), path);
    if (!existing.ok) return existing;
    if (existing.value !== undefined) return ok(undefined);
    const created = await this.#client.create(z.unknown(), '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels },
    });
    if (!created.ok && rejectedStatus(created.error) !== 409) return created;
    return ok(undefined);
  }

  async #applyLease(id: LeaseId, ports: readonly DesiredPort[]): Promise<Result<WriteCounts>> {
    const objects = await this.#listLease(id);
    return objects.ok ? this.#write(id, ports, objects.value) : objects;
  }

  /** Makes the lease's listed objects match `ports`: stale ones deleted, missing or changed ones written. */
  async #write(
    id: LeaseId,
    ports: readonly DesiredPort[],
    objects: LeaseObjects,
  ): Promise<Result<WriteCounts>> {
    const counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    const wantResources = new Set(ports.map((port) => port.resource));
    const wantServices = new Set(ports.map((port) => `${port.namespace}/${port.service}`));
    // Stale Services go first: their ports on the shared address must be free for the new ones.
    const services = new Map<string, ServiceObject>();
    for (const service of objects.services) {
      const name = `${service.metadata.namespace}/${service.metadata.name}`;
      if (wantServices.has(name)) {
        services.set(name, service);
        continue;
      }
      const deleted = await this.#client.delete(
        servicePath(service.metadata.namespace, service.metadata.name),
        service.metadata.uid,
      );
      if (!deleted.ok) return deleted;
      if (deleted.value) counts.deleted++;
    }
    const resources = new Map<string, LeasedIpObject>();
    for (const resource of objects.resources) {
      if (wantResources.has(resource.metadata.name)) {
        resources.set(resource.metadata.name, resource);
        continue;
      }
      const deleted = await this.#client.delete(
        leasedIpPath(this.#namespace, resource.metadata.name),
        resource.metadata.uid,
      );
      if (!deleted.ok) return deleted;
      if (deleted.value) counts.deleted++;
    }
    if (ports.length > 0) {
      const namespace = await this.#ensureNamespace(ports[0]!.namespace, ownedLabels(id));
      if (!namespace.ok) return namespace;
    }
    const finalResources: LeasedIpObject[] = [];
    const finalServices: ServiceObject[] = [];
    for (const port of ports) {
      const resource = await this.#writeResource(port, resources.get(port.resource), counts);
      if (!resource.ok) return resource;
      finalResources.push(resource.value);
      const service = await this.#writeService(
        port,
        services.get(`${port.namespace}/${port.service}`),
        counts,
      );
      if (!service.ok) return service;
      finalServices.push(service.value);
    }
    this.#remember(realize(id, finalResources, finalServices));
    return ok(counts);
  }

  async #writeResource(
    port: DesiredPort,
    have: LeasedIpObject | undefined,
    counts: { created: number; updated: number; unchanged: number },
  ): Promise<Result<LeasedIpObject>> {
    const want = leasedIpBody(port, this.#namespace);
    if (have !== undefined && leasedIpMatches(have, want)) {
      counts.unchanged++;
      return ok(have);
    }
    const path = leasedIpPath(this.#namespace, port.resource);
    if (have === undefined) {
      const created = await this.#client.create(leasedIpSchema, leasedIpPath(this.#namespace), want);
      if (created.ok || rejectedStatus(created.error) !== 409) {
        if (created.ok) counts.created++;
        return created;
      }
      // A namesake exists without this lease's labels: the same owner's endpoint, declared by another
      // lease. Taking it over is what a migration does; the engine decides that, so it is ours to write.
    }
    const patched = await this.#client.patch(leasedIpSchema, path, {
      metadata: { labels: want.metadata.labels },
      spec: want.spec,
    });
    if (patched.ok) counts.updated++;
    return patched;
  }

  async #writeService(
    port: DesiredPort,
    have: ServiceObject | undefined,
    counts: { created: number; updated: number; deleted: number; unchanged: number },
  ): Promise<Result<ServiceObject>> {
    const want = serviceBody(port);
    const path = servicePath(port.namespace, port.service);
    if (have !== undefined && serviceMatches(have, want)) {
      counts.unchanged++;
      return ok(have);
    }
    if (have !== undefined && familiesDiffer(have, want)) {
      const deleted = await this.#client.delete(path, have.metadata.uid);
      if (!deleted.ok) return deleted;
      counts.deleted++;
      return this.#writeService(port, undefined, counts);
    }
    if (have === undefined) {
      const created = await this.#client.create(serviceSchema, servicePath(port.namespace), want);
      if (created.ok) counts.created++;
      return created;
    }
    const patched = await this.#client.patch(serviceSchema, path, servicePatch(have, want));
    if (patched.ok) counts.updated++;
    return patched;
  }
}

function assignedAny(lease: RealizedLease): boolean {
  return lease.ports.some((port) => port.assigned.length > 0);
}

/** Joins a lease's `ProviderLeasedIP` objects and Services by (endpoint, external port, protocol). */
function realize(
  id: LeaseId,
  resources: readonly LeasedIpObject[],
  services: readonly ServiceObject[],
): RealizedLease {
  const byPort = new Map<string, { resource?: LeasedIpObject; service?: ServiceObject }>();
  for (const resource of resources) {
    const { spec } = resource;
    if (spec.endpoint === undefined) continue;
    byPort.set(portKey(spec.endpoint, spec.external_port, spec.protocol), { resource });
  }
  for (const service of services) {
    const endpoint = service.metadata.annotations?.[ENDPOINT_ANNOTATION];
    const port = service.spec.ports[0];
    if (endpoint === undefined || port === undefined) continue;
    const key = portKey(endpoint, port.port, port.protocol);
    byPort.set(key, { ...byPort.get(key), service });
  }
  const ports: RealizedPort[] = [];
  for (const { resource, service } of byPort.values()) {
    const servicePort = service?.spec.ports[0];
    const annotations = service?.metadata.annotations ?? {};
    const protocol = resource?.spec.protocol ?? servicePort?.protocol;
    if (protocol !== 'TCP' && protocol !== 'UDP') continue;
    const target = resource?.spec.port ?? servicePort?.targetPort;
    if (typeof target !== 'number') continue;
    const declaration: Declaration = {
      endpoint: resource?.spec.endpoint ?? annotations[ENDPOINT_ANNOTATION] ?? '',
      service: resource?.spec.service_name ?? service?.spec.selector?.[LABEL.manifestService] ?? '',
      port: target,
      externalPort: resource?.spec.external_port ?? servicePort?.port ?? 0,
      protocol,
    };
    const addresses = splitAddresses(resource?.spec.address ?? annotations[METALLB.loadBalancerIps]);
    const assigned = service === undefined ? [] : ingressOf(service);
    const realized: RealizedPort = {
      declaration,
      addresses,
      sharingKey: resource?.spec.sharing_key ?? annotations[METALLB.allowSharedIp] ?? '',
      assigned,
      confirmed: service !== undefined && addresses.length > 0 && sameSet(addresses, assigned),
      ...(resource === undefined ? {} : { resource: resource.metadata.name }),
      ...(service === undefined ? {} : { service: `${service.metadata.namespace}/${service.metadata.name}` }),
    };
    ports.push(realized);
  }
  ports.sort(
    (a, b) =>
      (a.declaration.endpoint < b.declaration.endpoint
        ? -1
        : a.declaration.endpoint > b.declaration.endpoint
          ? 1
          : 0) ||
      a.declaration.externalPort - b.declaration.externalPort ||
      (a.declaration.protocol < b.declaration.protocol
        ? -1
        : a.declaration.protocol > b.declaration.protocol
          ? 1
          : 0),
  );
  return {
    id,
    key: leaseKey(id),
    ports,
    confirmed: ports.length > 0 && ports.every((port) => port.confirmed),
  };
}
