/**
 * The provider's behaviour behind its HTTP routes: receiving manifests, lease status, endpoint
 * migration, closing leases, and the IP operator's reports. Every tenant call arrives with verified JWT
 * claims; the owner of whatever it touches comes from this provider's records, never from the token.
 */
import { z } from 'zod';
import { DSEQ_RULE, dseqOf } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { authorize, type JwtClaims, type ProviderAction } from '../identity/index.js';
import {
  type AuditEntry,
  type AuditEvent,
  checkAgainstSpec,
  declarationsOf,
  type LeaseEngine,
  type LeaseId,
  type LeaseIpStatus,
  leaseKey,
  orderPath,
} from '../lease/index.js';
import { parseManifest } from '../manifest/index.js';
import { type GroupSpec, type ManifestGroup, manifestVersion } from '../sdl/index.js';
import type { Chain } from './chain.js';
import {
  type IpLeaseStatusEntry,
  ipLeaseStatus,
  leaseStatusJson,
  NO_IPS,
  type ServiceStatus,
  serviceStatusOf,
} from './lease-status.js';
import type { Logger } from './logger.js';
import { type DeployedLease, manifestDocument, manifestRemoval } from './manifest-store.js';
import type { DaemonMetrics } from './metrics.js';

export interface ProviderServiceOptions {
  /** This provider's account address. */
  readonly provider: string;
  /** The engine; its store also keeps the deployed manifests (see manifest-store.ts). */
  readonly engine: LeaseEngine;
  /** The manifests the store held at start-up. */
  readonly deployed: readonly DeployedLease[];
  readonly chain: Chain;
  readonly logger: Logger;
  readonly metrics: DaemonMetrics;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Closes a lease on the chain for this provider (ledger mode); standalone has none. */
  readonly closeOnChain?: (id: LeaseId) => Promise<Result<void, AppError>>;
  /** Orders with a bid of ours still open, for `/status`. */
  readonly openBids?: () => number;
  /**
   * Told, after each commit, which leases it changed, in the order a cluster should apply them (a
   * migration's sources before its destinations). Must not throw; the commit stands whatever it does.
   */
  readonly committed?: (leases: readonly LeaseId[]) => void;
}

/** What one lease got from a manifest. */
export interface DeployedLeaseReport {
  readonly id: LeaseId;
  readonly group: string;
  readonly action: 'deployed' | 'updated';
  readonly ips: LeaseIpStatus['ips'];
  readonly ip_endpoints: LeaseIpStatus['ip_endpoints'];
  /** Endpoints that hold no address, with why: the same facts as `ip_endpoints`, listed for a quick look. */
  readonly withheld: readonly {
    readonly endpoint: string;
    readonly state: 'pending' | 'withheld';
    readonly reason: string;
  }[];
}

/** The answer to `PUT /deployment/{dseq}/manifest`. */
export interface ManifestReport {
  readonly dseq: string;
  readonly version: string;
  readonly leases: readonly DeployedLeaseReport[];
}

/** The answer to `POST /endpoint/migrate`: Go's `transferred`, plus what moved where. */
export interface MigrationReport {
  readonly transferred: readonly string[];
  readonly dry_run: boolean;
  readonly moves: readonly {
    readonly endpoint: string;
    readonly from: { readonly dseq: string; readonly gseq: number; readonly oseq: number };
    readonly to: { readonly dseq: string; readonly gseq: number; readonly oseq: number };
    readonly addresses: readonly string[];
  }[];
  readonly unchanged: readonly string[];
}

const SEQ = /^[0-9]{1,10}$/;

/** A uint64 above 0, as a JSON number (safe integers only) or a decimal string; canonical text out. */
const dseqField = z.union([
  z.int().min(1).max(Number.MAX_SAFE_INTEGER).transform(String),
  z
    .string()
    .refine((text) => dseqOf(text) !== undefined, DSEQ_RULE)
    .transform((text) => dseqOf(text) ?? text),
]);

const migrateSchema = z.object({
  endpoints_to_migrate: z.array(z.string().max(253)).max(256).nullable(),
  destination_dseq: dseqField,
  destination_gseq: z.int().min(1).max(0xffff_ffff),
  source_dseq: dseqField.exactOptional(),
  dry_run: z.boolean().exactOptional(),
});

function bad(message: string): { readonly ok: false; readonly error: AppError } {
  return fail(appError('INVALID_INPUT', message));
}

/** Checks `dseq/gseq/oseq` path segments. */
export function parseLeasePath(
  dseq: string,
  gseq: string,
  oseq: string,
): Result<{ readonly dseq: string; readonly gseq: number; readonly oseq: number }> {
  const canonical = dseqOf(dseq);
  if (canonical === undefined) return bad(`dseq "${dseq}" is not a uint64 above 0`);
  const g = SEQ.test(gseq) ? Number(gseq) : 0;
  const o = SEQ.test(oseq) ? Number(oseq) : 0;
  if (g < 1 || g > 0xffff_ffff) return bad(`gseq "${gseq}" is not a uint32 above 0`);
  if (o < 1 || o > 0xffff_ffff) return bad(`oseq "${oseq}" is not a uint32 above 0`);
  return ok({ dseq: canonical, gseq: g, oseq: o });
}

/** The provider service; one per daemon, created once the engine has been rebuilt. */
export class ProviderService {
  readonly provider: string;
  readonly engine: LeaseEngine;
  readonly #options: ProviderServiceOptions;
  /** Deployed leases by lease key. */
  readonly #leases = new Map<string, DeployedLease>();
  /** Deployed leases by `dseq/gseq/oseq`, then owner: the lease-status route knows no owner. */
  readonly #slots = new Map<string, Map<string, DeployedLease>>();
  /** Serialises changes, so a manifest, a migration and a close never interleave. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Grows with every change of lease state; cached status documents of an older generation are stale. */
  #generation = 0;
  readonly #statusCache = new Map<string, { readonly generation: number; readonly json: string }>();
  /** Leases torn down since start-up: a manifest checked against the chain just before is refused. */
  readonly #closed = new Set<string>();

  constructor(options: ProviderServiceOptions) {
    this.#options = options;
    this.provider = options.provider;
    this.engine = options.engine;
    for (const lease of options.deployed) this.#index(lease);
  }

  #index(lease: DeployedLease): void {
    this.#leases.set(leaseKey(lease.id), lease);
    const slot = orderPath(lease.id);
    let owners = this.#slots.get(slot);
    if (owners === undefined) {
      owners = new Map();
      this.#slots.set(slot, owners);
    }
    owners.set(lease.id.owner, lease);
  }

  #unindex(id: LeaseId): void {
    const key = leaseKey(id);
    this.#leases.delete(key);
    this.#statusCache.delete(key);
    const slot = orderPath(id);
    const owners = this.#slots.get(slot);
    owners?.delete(id.owner);
    if (owners?.size === 0) this.#slots.delete(slot);
  }

  #serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #changed(events: readonly AuditEntry[]): void {
    this.#generation++;
    const { metrics } = this.#options;
    for (const event of events) {
      if (event.action === 'allocate') metrics.allocations.inc();
      else if (event.action === 'release') metrics.releases.inc();
    }
  }

  #authorize(claims: JwtClaims, owner: string, action: ProviderAction, at: Partial<LeaseId>): Result<void> {
    const granted = authorize(claims, {
      owner,
      provider: this.provider,
      action,
      ...(at.dseq === undefined ? {} : { dseq: at.dseq }),
      ...(at.gseq === undefined ? {} : { gseq: at.gseq }),
      ...(at.oseq === undefined ? {} : { oseq: at.oseq }),
    });
    return granted.ok ? ok(undefined) : granted;
  }

  /**
   * The caller's deployed lease at `dseq/gseq/oseq`. Another owner's lease there is FORBIDDEN, so a
   * tenant learns nothing more than that the slot is taken; nothing there is LEASE_NOT_FOUND.
   */
  #find(
    claims: JwtClaims,
    at: { readonly dseq: string; readonly gseq: number; readonly oseq: number },
    action: ProviderAction,
  ): Result<DeployedLease> {
    const owners = this.#slots.get(orderPath(at));
    const lease = owners?.get(claims.iss) ?? owners?.values().next().value;
    if (lease === undefined) {
      return fail(
        appError(
          'LEASE_NOT_FOUND',
          `no manifest for lease ${orderPath(at)} of ${claims.iss} on this provider; ` +
            `send it with PUT /deployment/${at.dseq}/manifest`,
        ),
      );
    }
    const allowed = this.#authorize(claims, lease.id.owner, action, at);
    return allowed.ok ? ok(lease) : allowed;
  }

  #ipStatus(id: LeaseId): LeaseIpStatus {
    const status = this.engine.status(id);
    return status.ok ? status.value : NO_IPS;
  }

  /** The ID of the caller's lease at `dseq/gseq/oseq`, refused as lease-status refuses it. */
  leaseIdOf(
    claims: JwtClaims,
    at: { readonly dseq: string; readonly gseq: number; readonly oseq: number },
  ): Result<LeaseId> {
    const found = this.#find(claims, at, 'status');
    return found.ok ? ok(found.value.id) : found;
  }

  /** The lease-status JSON of the caller's lease; cached until the next change of lease state. */
  leaseStatus(
    claims: JwtClaims,
    at: { readonly dseq: string; readonly gseq: number; readonly oseq: number },
  ): Result<string> {
    const found = this.#find(claims, at, 'status');
    if (!found.ok) return found;
    const key = leaseKey(found.value.id);
    const cached = this.#statusCache.get(key);
    if (cached !== undefined && cached.generation === this.#generation) return ok(cached.json);
    const json = leaseStatusJson(found.value.group, this.#ipStatus(found.value.id));
    this.#statusCache.set(key, { generation: this.#generation, json });
    return ok(json);
  }

  /** `GET /lease/{dseq}/{gseq}/{oseq}/manifest` (scope `get-manifest`): the deployed group, as Go's `manifest.Manifest`. */
  manifest(
    claims: JwtClaims,
    at: { readonly dseq: string; readonly gseq: number; readonly oseq: number },
  ): Result<readonly ManifestGroup[]> {
    const found = this.#find(claims, at, 'get-manifest');
    return found.ok ? ok([found.value.group]) : found;
  }

  /** `GET /lease/{dseq}/{gseq}/{oseq}/service/{name}/status` (scope `status`): chain-sdk's `ServiceStatus`. */
  serviceStatus(
    claims: JwtClaims,
    at: { readonly dseq: string; readonly gseq: number; readonly oseq: number },
    name: string,
  ): Result<ServiceStatus> {
    const found = this.#find(claims, at, 'status');
    if (!found.ok) return found;
    const status = serviceStatusOf(found.value.group, name);
    return status === undefined
      ? fail(
          appError('SERVICE_NOT_FOUND', `lease ${orderPath(at)} has no service "${name}"`, {
            services: found.value.group.services.map((service) => service.name),
          }),
        )
      : ok(status);
  }

  /**
   * `GET /lease/{dseq}/{gseq}/{oseq}/ip-details`: what the caller's workload is told (its leased-IP
   * environment variables, per service) and the audit trail of the lease's addresses, oldest first.
   */
  async leaseDetails(
    claims: JwtClaims,
    at: { readonly dseq: string; readonly gseq: number; readonly oseq: number },
  ): Promise<Result<{ readonly env: unknown; readonly audit: readonly AuditEvent[] }>> {
    const found = this.#find(claims, at, 'status');
    if (!found.ok) return found;
    const env = this.engine.env(found.value.id);
    if (!env.ok) return env;
    const audit = await this.engine.audit({ owner: found.value.id.owner, lease: leaseKey(found.value.id) });
    return audit.ok ? ok({ env: env.value, audit: audit.value }) : audit;
  }

  /** `GET /ip-audit` (internal): the provider's newest audit entries, oldest first, at most `limit`. */
  async recentAudit(limit: number): Promise<Result<readonly AuditEvent[]>> {
    const all: AuditEvent[] = [];
    // the store pages oldest first: walk to the end, keeping only the newest `limit`
    for (let afterId = 0; ; ) {
      const page = await this.engine.audit({ afterId, limit: 1000 });
      if (!page.ok) return page;
      all.push(...page.value);
      if (all.length > limit) all.splice(0, all.length - limit);
      const last = page.value.at(-1);
      if (last === undefined || page.value.length < 1000) break;
      afterId = last.id;
    }
    return ok(all);
  }

  /**
   * `PUT /deployment/{dseq}/manifest`: checks the manifest against the deployment on chain (version hash,
   * one group per lease, IP endpoints as ordered), then deploys or updates each of the caller's leases.
   */
  async sendManifest(claims: JwtClaims, dseqText: string, body: unknown): Promise<Result<ManifestReport>> {
    const dseq = dseqOf(dseqText);
    if (dseq === undefined) return bad(`dseq "${dseqText}" is not a uint64 above 0`);
    const manifest = parseManifest(body);
    if (!manifest.ok) return manifest;
    const version = manifestVersion(manifest.value);

    const active = await this.#options.chain.activeLeases(dseq);
    if (!active.ok) return active;
    const mine = active.value
      .filter((lease) => lease.owner === claims.iss && lease.provider === this.provider)
      .sort((a, b) => a.gseq - b.gseq || a.oseq - b.oseq);
    const other = active.value.find((lease) => lease.owner !== claims.iss);
    if (mine.length === 0 && other !== undefined) {
      const denied = this.#authorize(claims, other.owner, 'send-manifest', { dseq });
      if (!denied.ok) return denied;
    }
    if (mine.length === 0) {
      return fail(
        appError(
          'LEASE_NOT_FOUND',
          `${claims.iss} has no active lease in deployment ${dseq} on provider ${this.provider}`,
        ),
      );
    }
    const allowed = this.#authorize(claims, claims.iss, 'send-manifest', { dseq });
    if (!allowed.ok) return allowed;

    const deployment = await this.#options.chain.deployment(claims.iss, dseq);
    if (!deployment.ok) return deployment;
    if (deployment.value.hash !== version) {
      return fail(
        appError(
          'MANIFEST_MISMATCH',
          `the manifest's version ${version} does not match deployment ${dseq}'s hash ${deployment.value.hash}; ` +
            `send the manifest of the SDL the deployment was created or last updated with`,
          { version, hash: deployment.value.hash },
        ),
      );
    }

    const plan: { readonly id: LeaseId; readonly group: ManifestGroup; readonly spec: GroupSpec }[] = [];
    for (const id of mine) {
      const spec = deployment.value.groups.find((group) => group.gseq === id.gseq)?.spec;
      if (spec === undefined) {
        return fail(appError('MANIFEST_MISMATCH', `deployment ${dseq} has no group ${id.gseq} on chain`));
      }
      const group = manifest.value.find((candidate) => candidate.name === spec.name);
      if (group === undefined) {
        return fail(
          appError(
            'MANIFEST_MISMATCH',
            `the manifest has no group "${spec.name}" for lease ${orderPath(id)}`,
          ),
        );
      }
      const declared = declarationsOf(group);
      if (!declared.ok) return declared;
      const matches = checkAgainstSpec(group, spec);
      if (!matches.ok) return matches;
      plan.push({ id, group, spec });
    }

    return this.#serially(async () => {
      const reports: DeployedLeaseReport[] = [];
      for (const { id, group, spec } of plan) {
        const key = leaseKey(id);
        if (this.#closed.has(key)) return fail(appError('LEASE_CLOSED', `lease ${key} was closed meanwhile`));
        const previous = this.#leases.get(key);
        const now = this.#options.now();
        const record: DeployedLease = Object.freeze({
          id,
          group,
          version,
          deployedAt: previous?.deployedAt ?? now,
          updatedAt: now,
        });
        const deployed = await this.engine.deploy(id, group, {
          groupSpec: spec,
          actor: claims.iss,
          documents: [manifestDocument(record)],
        });
        if (!deployed.ok) return deployed;
        this.#changed(deployed.value.events);
        this.#index(record);
        if (deployed.value.lease !== undefined) this.#options.committed?.([id]);
        const ip = this.#ipStatus(id);
        const report: DeployedLeaseReport = {
          id,
          group: group.name,
          action: previous === undefined ? 'deployed' : 'updated',
          ips: ip.ips,
          ip_endpoints: ip.ip_endpoints,
          withheld: Object.entries(ip.ip_endpoints).flatMap(([endpoint, status]) =>
            status.state === 'active' ? [] : [{ endpoint, state: status.state, reason: status.reason ?? '' }],
          ),
        };
        reports.push(report);
        this.#options.logger.log(
          report.withheld.length === 0 ? 'info' : 'warn',
          `manifest ${report.action}`,
          {
            lease: key,
            version,
            endpoints: Object.fromEntries(
              Object.entries(ip.ip_endpoints).map(([name, status]) => [name, status.state]),
            ),
            ...(report.withheld.length === 0 ? {} : { withheld: report.withheld }),
          },
        );
      }
      return ok({ dseq, version, leases: reports });
    });
  }

  /**
   * `POST /endpoint/migrate`. Go's statuses: 422 for a body that does not decode, 400 for an empty list,
   * an inactive destination or a name the destination does not use. Unlike Go, the scope `ip-migrate` is
   * required and only the named endpoints move.
   */
  async migrate(claims: JwtClaims, body: unknown): Promise<Result<MigrationReport>> {
    const parsed = migrateSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail(
        appError(
          'MIGRATION_INVALID',
          `the body is not an endpoint migration request: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? ''}`,
        ),
      );
    }
    const request = parsed.data;
    const names = request.endpoints_to_migrate ?? [];
    if (names.length === 0) return bad('no endpoints indicated for migration');
    const dseq = request.destination_dseq;
    const gseq = request.destination_gseq;

    const candidates = [...this.#leases.values()].filter(
      (lease) => lease.id.dseq === dseq && lease.id.gseq === gseq,
    );
    const destination = candidates.find((lease) => lease.id.owner === claims.iss);
    if (destination === undefined) {
      const other = candidates[0];
      if (other !== undefined) {
        const denied = this.#authorize(claims, other.id.owner, 'ip-migrate', { dseq, gseq });
        if (!denied.ok) return denied;
      }
      return bad('destination deployment does not exist');
    }
    const allowed = this.#authorize(claims, claims.iss, 'ip-migrate', { dseq, gseq });
    if (!allowed.ok) return allowed;
    const used = new Set(
      destination.group.services.flatMap((service) =>
        service.expose.filter((expose) => expose.global && expose.ip !== '').map((expose) => expose.ip),
      ),
    );
    const missing = names.find((name) => !used.has(name));
    if (missing !== undefined)
      return bad(`the endpoint "${missing}" does not exist in the destination deployment`);

    const dryRun = request.dry_run === true;
    return this.#serially(async () => {
      const migrated = await this.engine.migrate(
        {
          owner: claims.iss,
          destination: { dseq, gseq },
          endpoints: names,
          ...(request.source_dseq === undefined ? {} : { source: { dseq: request.source_dseq } }),
          dryRun,
        },
        { actor: claims.iss },
      );
      if (!migrated.ok) return migrated;
      const result = migrated.value;
      if (!dryRun) {
        this.#changed(result.events);
        this.#options.committed?.([
          ...result.moves.map((move) => move.from),
          ...result.moves.map((move) => move.to),
        ]);
        this.#options.metrics.migrations.inc(result.moves.length);
        for (const move of result.moves) {
          this.#options.logger.log('info', 'endpoint migrated', {
            endpoint: move.endpoint,
            from: leaseKey(move.from),
            to: leaseKey(move.to),
            addresses: move.addresses,
          });
        }
      }
      const seqs = (id: LeaseId) => ({ dseq: id.dseq, gseq: id.gseq, oseq: id.oseq });
      return ok({
        // only what moved: an endpoint the destination already held is in `unchanged`, not here
        transferred: dryRun ? [] : [...new Set(result.moves.map((move) => move.endpoint))],
        dry_run: dryRun,
        moves: result.moves.map((move) => ({
          endpoint: move.endpoint,
          from: seqs(move.from),
          to: seqs(move.to),
          addresses: move.addresses,
        })),
        unchanged: result.unchanged,
      });
    });
  }

  /** `DELETE /lease/{dseq}/{gseq}/{oseq}`: the owner ends its lease here (and on chain, in ledger mode). */
  async closeLease(
    claims: JwtClaims,
    at: { readonly dseq: string; readonly gseq: number; readonly oseq: number },
  ): Promise<Result<{ readonly id: LeaseId; readonly released: readonly string[] }>> {
    const found = this.#find(claims, at, 'close');
    if (!found.ok) return found;
    const { id } = found.value;
    if (this.#options.closeOnChain !== undefined) {
      const closed = await this.#options.closeOnChain(id);
      if (!closed.ok && closed.error.code !== 'LEASE_CLOSED') return closed;
    }
    const released = await this.teardown(id, 'closed by its owner');
    return released.ok ? ok({ id, released: released.value }) : released;
  }

  /** Ends a lease here: releases its addresses into quarantine and forgets its manifest. Idempotent. */
  teardown(id: LeaseId, why: string): Promise<Result<readonly string[]>> {
    return this.#serially(async () => {
      const known = this.#leases.has(leaseKey(id));
      const closed = await this.engine.close(id, known ? { documents: [manifestRemoval(id)] } : {});
      if (!closed.ok) return closed;
      this.#changed(closed.value.events);
      if (closed.value.lease !== undefined) this.#options.committed?.([id]);
      this.#unindex(id);
      this.#closed.add(leaseKey(id));
      if (known || closed.value.released.length > 0) {
        this.#options.logger.log('info', 'lease closed', {
          lease: leaseKey(id),
          why,
          released: closed.value.released,
        });
      }
      return ok(closed.value.released);
    });
  }

  /** Closes every lease held here that is not in `active` (lease keys): the chain moved on without us. */
  async reconcile(active: ReadonlySet<string>): Promise<Result<number>> {
    const stale = new Map<string, LeaseId>();
    for (const lease of this.#leases.values()) stale.set(leaseKey(lease.id), lease.id);
    for (const lease of this.engine.leases({ state: 'active' })) stale.set(lease.key, lease.id);
    let closed = 0;
    for (const [key, id] of stale) {
      if (active.has(key)) continue;
      const done = await this.teardown(id, 'no longer active on chain');
      if (!done.ok) return done;
      closed++;
    }
    return ok(closed);
  }

  /** Retries pending endpoints and prunes quarantine; call periodically. */
  maintain(): Promise<Result<number>> {
    return this.#serially(async () => {
      const maintained = await this.engine.maintain();
      if (!maintained.ok) return maintained;
      if (maintained.value.events.length > 0) {
        this.#changed(maintained.value.events);
        const touched = new Set(maintained.value.events.map((event) => event.lease));
        this.#options.committed?.(
          this.engine
            .leases({ state: 'active' })
            .filter((lease) => touched.has(lease.key))
            .map((lease) => lease.id),
        );
      }
      if (maintained.value.retried > 0) {
        this.#options.logger.log('info', 'pending endpoints retried', { retried: maintained.value.retried });
      }
      return ok(maintained.value.retried);
    });
  }

  /** The caller's leases on this provider (`GET /leases`). */
  ownerLeases(claims: JwtClaims): Result<unknown[]> {
    const allowed = this.#authorize(claims, claims.iss, 'status', {});
    if (!allowed.ok) return allowed;
    const out: unknown[] = [];
    for (const lease of this.#leases.values()) {
      if (lease.id.owner !== claims.iss) continue;
      const ip = this.#ipStatus(lease.id);
      out.push({
        id: lease.id,
        group: lease.group.name,
        version: lease.version,
        deployed_at: new Date(lease.deployedAt).toISOString(),
        updated_at: new Date(lease.updatedAt).toISOString(),
        ips: ip.ips,
        ip_endpoints: ip.ip_endpoints,
      });
    }
    return ok(out);
  }

  /** `GET /status`: Akash's provider status with `cluster.inventory.leased_ip`, plus the pools. */
  providerStatus(): unknown {
    const inventory = this.engine.inventory();
    // Akash's leased_ip counts the default family (IPv4); IPv6 gets its own breakdown beside it.
    const ipv6 = inventory.family === 'v6' ? undefined : this.engine.inventory('v6');
    const deployments = new Set(
      [...this.#leases.values()].map((lease) => `${lease.id.owner}/${lease.id.dseq}`),
    );
    return {
      address: this.provider,
      cluster: {
        leases: this.#leases.size,
        inventory: {
          leased_ip: {
            allocatable: String(inventory.allocatable),
            allocated: String(inventory.allocated),
            capacity: String(inventory.capacity),
          },
          pools: inventory.pools.map((pool) => ({
            name: pool.pool,
            family: pool.family,
            capacity: String(pool.capacity),
            allocated: String(pool.allocated),
            reserved: String(pool.reserved),
            quarantined: String(pool.quarantined),
            available: String(pool.available),
          })),
        },
      },
      bidengine: { orders: this.#options.openBids?.() ?? 0 },
      manifest: { deployments: deployments.size },
      ip_leases: {
        family: inventory.family,
        in_use: String(inventory.inUse),
        reserved: String(inventory.reserved),
        quarantined: String(inventory.quarantined),
        available: String(inventory.available),
        ...(ipv6 === undefined || ipv6.capacity === 0n
          ? {}
          : {
              ipv6: {
                capacity: String(ipv6.capacity),
                in_use: String(ipv6.inUse),
                reserved: String(ipv6.reserved),
                quarantined: String(ipv6.quarantined),
                available: String(ipv6.available),
              },
            }),
      },
    };
  }

  /**
   * `GET /usage` as Go's IP operator answers it: `Available` is the pool size and `InUse` what a new
   * lease cannot have (allocated plus quarantined), so Go's `Available − InUse − reserved` holds.
   * Written by hand because an IPv6 pool's size does not fit a JSON number JavaScript can print.
   */
  usageJson(): string {
    const inventory = this.engine.inventory();
    return `{"Available":${inventory.capacity},"InUse":${inventory.inUse + inventory.quarantined}}`;
  }

  /** `GET /ip-lease-status/{owner}/{dseq}/{gseq}/{oseq}`: the lease's bound ports, or none. */
  ipLeaseStatus(owner: string, at: { dseq: string; gseq: number; oseq: number }): IpLeaseStatusEntry[] {
    const lease = this.engine.lease({ owner, ...at, provider: this.provider });
    return lease === undefined || lease.state !== 'active' ? [] : ipLeaseStatus(lease);
  }

  /** Number of deployed leases. */
  get size(): number {
    return this.#leases.size;
  }
}
