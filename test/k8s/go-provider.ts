/**
 * A stand-in for the Go Akash provider's side of IP leases, for tests of `akash-ip operator`: it installs
 * the `ProviderLeasedIP` CRD as the Akash provider's chart does and writes, overwrites and deletes the
 * objects exactly as the Go provider's `DeclareIP` / `PurgeDeclaredIP(s)` do (the body from src/operator/testing.ts
 * `goLeasedIp`; see
 * ../shared/reference/akash-provider-ip.md §1.2-1.4, §2.1). Its purge uses the lease's selector (the Go
 * provider's purge deletes every object, defect F1: a test that wants that bug calls `purgeAll`).
 */
import type { KubeGateway, KubeRequest } from '../../src/k8s/index.js';
import { leaseLabels, leaseNamespace } from '../../src/k8s/index.js';
import type { LeaseId } from '../../src/lease/index.js';
import { type GoDeclaration, goLeasedIp } from '../../src/operator/testing.js';
import { until } from '../../src/testing/wait.js';

export type { GoDeclaration };

const GROUP = 'akash.network';
const PLURAL = 'providerleasedips';

/** The CRD's schema as the Akash provider's chart declares it: v2beta2 served and stored, v2beta1 kept unserved. */
function version(name: string, served: boolean) {
  return {
    name,
    served,
    storage: served,
    schema: {
      openAPIV3Schema: {
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: {
              lease_id: {
                type: 'object',
                properties: {
                  owner: { type: 'string' },
                  dseq: { type: 'string', format: 'uint64' },
                  gseq: { type: 'integer' },
                  oseq: { type: 'integer' },
                  provider: { type: 'string' },
                },
              },
              service_name: { type: 'string' },
              port: { type: 'integer' },
              external_port: { type: 'integer' },
              protocol: { type: 'string' },
              sharing_key: { type: 'string' },
            },
          },
        },
      },
    },
  };
}

export const GO_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {
    name: `${PLURAL}.${GROUP}`,
    annotations: { 'helm.sh/resource-policy': 'keep' },
  },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: PLURAL, singular: 'providerleasedip', kind: 'ProviderLeasedIP', shortNames: ['plip'] },
    versions: [version('v2beta2', true), version('v2beta1', false)],
  },
} as const;

/** What `DeclareIP` did: created, overwrote (migration), or found the name taken (Go's silent "withheld"). */
export type DeclareOutcome = 'created' | 'updated' | 'exists';

export class GoProvider {
  readonly #gateway: KubeGateway;
  readonly #namespace: string;

  constructor(gateway: KubeGateway, namespace = 'lease') {
    this.#gateway = gateway;
    this.#namespace = namespace;
  }

  async #call(req: KubeRequest, allowed: readonly number[] = []): Promise<{ status: number; body: unknown }> {
    const answer = await this.#gateway.request(req);
    if (!answer.ok) throw new Error(`${req.method} ${req.path}: ${answer.error.message}`);
    const { status, body } = answer.value;
    if (status >= 300 && !allowed.includes(status)) {
      throw new Error(`${req.method} ${req.path}: HTTP ${status} ${JSON.stringify(body)}`);
    }
    return answer.value;
  }

  #path(name?: string): string {
    const base = `/apis/${GROUP}/v2beta2/namespaces/${this.#namespace}/${PLURAL}`;
    return name === undefined ? base : `${base}/${name}`;
  }

  /** Installs the CRD and the manifest namespace, as the Akash provider's chart does, and waits until served. */
  async install(): Promise<void> {
    await this.#call(
      { method: 'POST', path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', body: GO_CRD },
      [409],
    );
    await this.#call(
      { method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: this.#namespace } } },
      [409],
    );
    await until(
      async () => {
        // Until the CRD is served the apiserver answers 404 (as plain text), 503, or 429 while its storage
        // is (re)initializing.
        const listed = await this.#gateway.request({ method: 'GET', path: this.#path() });
        return listed.ok && listed.value.status === 200;
      },
      'the ProviderLeasedIP CRD to be served',
      { limitMs: 30_000, everyMs: 100 },
    );
  }

  /** The tenant namespace the Go provider's `Deploy` creates before it declares any IP. */
  async createLeaseNamespace(lease: LeaseId): Promise<string> {
    const name = leaseNamespace(lease);
    const labels = { 'akash.network': 'true', 'akash.network/namespace': name, ...leaseLabels(lease) };
    await this.#call(
      { method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name, labels } } },
      [409],
    );
    return name;
  }

  /** `DeclareIP`: Get by name; create; or, with `overwrite` (migration), replace carrying the resourceVersion. */
  async declareIP(lease: LeaseId, declaration: GoDeclaration, overwrite = false): Promise<DeclareOutcome> {
    const object = goLeasedIp(lease, declaration, this.#namespace);
    const found = await this.#call({ method: 'GET', path: this.#path(object.metadata.name) }, [404]);
    if (found.status === 404) {
      await this.#call({ method: 'POST', path: this.#path(), body: object });
      return 'created';
    }
    if (!overwrite) return 'exists';
    const resourceVersion = (found.body as { metadata: { resourceVersion: string } }).metadata
      .resourceVersion;
    await this.#call({
      method: 'PUT',
      path: this.#path(object.metadata.name),
      body: { ...object, metadata: { ...object.metadata, resourceVersion } },
    });
    return 'updated';
  }

  /** Deletes one port's object of one lease (what `PurgeDeclaredIP` means to do). */
  async purgeDeclaredIP(lease: LeaseId, declaration: GoDeclaration): Promise<void> {
    const { name } = goLeasedIp(lease, declaration, this.#namespace).metadata;
    const found = await this.#call({ method: 'GET', path: this.#path(name) }, [404]);
    if (found.status === 404) return;
    const labels = (found.body as { metadata: { labels?: Record<string, string> } }).metadata.labels ?? {};
    if (labels['akash.network/lease.id.dseq'] !== lease.dseq) return;
    await this.#call({ method: 'DELETE', path: this.#path(name) }, [404]);
  }

  /** `PurgeDeclaredIPs`: every object of the lease (on close). */
  async purgeDeclaredIPs(lease: LeaseId): Promise<void> {
    const selector = Object.entries({ 'akash.network': 'true', ...leaseLabels(lease) })
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    await this.#call({ method: 'DELETE', path: this.#path(), query: { labelSelector: selector } });
  }

  /** The Go provider's F1 purge: every object of the namespace, whichever tenant it belongs to. */
  async purgeAll(): Promise<void> {
    await this.#call({
      method: 'DELETE',
      path: this.#path(),
      query: { labelSelector: 'akash.network=true' },
    });
  }

  /** The names of the objects now in the manifest namespace. */
  async names(): Promise<string[]> {
    const listed = await this.#call({ method: 'GET', path: this.#path() });
    return ((listed.body as { items: { metadata: { name: string } }[] }).items ?? []).map(
      (item) => item.metadata.name,
    );
  }
}
