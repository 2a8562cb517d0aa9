/**
 * The provider view: every registered provider's pools as its `/status` reports them, a sampler that
 * keeps their totals over time for the chart, and a provider's recent IP audit trail.
 */

import { type AppError, ok, type Result } from '../errors/index.js';
import type { ProviderStatus, Session } from '../tenant/index.js';
import type { AuditJson, DecisionJson, PoolJson, ProviderJson, SampleJson } from './api-types.js';
import type { PoolHistory } from './history.js';
import { errorJson, priceJson } from './tenant-api.js';

/** Audit entries the provider view shows. */
const AUDIT_SHOWN = 200;

function poolsOf(status: ProviderStatus): PoolJson[] {
  return (status.cluster.inventory.pools ?? []).map((pool) => {
    const reserved = pool.reserved ?? 0n;
    const quarantined = pool.quarantined ?? 0n;
    const used = pool.allocated + reserved + quarantined;
    return {
      name: pool.name,
      family: pool.family ?? '',
      capacity: pool.capacity.toString(),
      allocated: pool.allocated.toString(),
      reserved: reserved.toString(),
      quarantined: quarantined.toString(),
      available: (pool.available ?? (pool.capacity > used ? pool.capacity - used : 0n)).toString(),
    };
  });
}

/** Every registered provider and its pools, in devnet-name order. */
export async function listProviders(session: Session): Promise<Result<ProviderJson[], AppError>> {
  const listed = await session.ledger.listProviders();
  if (!listed.ok) return listed;
  const providers = [...listed.value].sort((a, b) =>
    session.providerLabel(a.address).localeCompare(session.providerLabel(b.address)),
  );
  const out: ProviderJson[] = [];
  for (const provider of providers) {
    const base = {
      address: provider.address,
      label: session.providerLabel(provider.address),
      url: provider.hostUri,
    };
    const client = await session.providerClient(provider.address);
    const status = client.ok ? await client.value.status() : client;
    if (!status.ok) {
      out.push({ ...base, pools: [], error: errorJson(status.error) });
      continue;
    }
    const kubernetes = (status.value as { kubernetes?: unknown }).kubernetes;
    out.push({ ...base, pools: poolsOf(status.value), ...(kubernetes === undefined ? {} : { kubernetes }) });
  }
  return ok(out);
}

/** One sample of the providers' totals over their pools. */
export function sampleOf(providers: readonly ProviderJson[], at: number): SampleJson {
  const totals: Record<string, SampleJson['providers'][string]> = {};
  for (const provider of providers) {
    if (provider.error !== undefined || provider.pools.length === 0) continue;
    const sum = (field: 'capacity' | 'allocated' | 'reserved' | 'quarantined') =>
      provider.pools.reduce((total, pool) => total + BigInt(pool[field]), 0n).toString();
    totals[provider.address] = {
      capacity: sum('capacity'),
      allocated: sum('allocated'),
      reserved: sum('reserved'),
      quarantined: sum('quarantined'),
    };
  }
  return { at, providers: totals };
}

/**
 * Samples the pools every `intervalMs` into `history` until `stop()`; a sample never overlaps the previous
 * one (a slow provider delays the next instead of piling requests up).
 */
export function startSampler(
  session: Session,
  history: PoolHistory,
  intervalMs: number,
): { stop(): void; sampleNow(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const sampleNow = async (): Promise<void> => {
    const providers = await listProviders(session);
    if (providers.ok) history.add(sampleOf(providers.value, Date.now()));
  };
  const loop = async (): Promise<void> => {
    await sampleNow();
    if (!stopped) timer = setTimeout(() => void loop(), intervalMs);
  };
  void loop();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
    sampleNow,
  };
}

/** A provider's newest audit entries (its internal route: the console runs on the provider's host, loopback). */
export async function providerAudit(
  session: Session,
  address: string,
): Promise<Result<AuditJson[], AppError>> {
  const client = await session.providerClient(address);
  if (!client.ok) return client;
  const audit = await client.value.recentAudit(AUDIT_SHOWN);
  return audit.ok ? ok([...audit.value]) : audit;
}

/** A provider's latest bid decisions with their reasons, newest first. */
export async function providerDecisions(
  session: Session,
  address: string,
): Promise<Result<DecisionJson[], AppError>> {
  const client = await session.providerClient(address);
  if (!client.ok) return client;
  const decisions = await client.value.bidDecisions();
  if (!decisions.ok) return decisions;
  return ok(
    [...decisions.value].reverse().map((d) => ({
      order: `${d.order.dseq}/${d.order.gseq}/${d.order.oseq}`,
      outcome: d.outcome,
      ...(d.code === undefined ? {} : { code: d.code }),
      message: d.message,
      ...(d.price === undefined ? {} : { price: priceJson(d.price.amount) }),
    })),
  );
}
