/**
 * The provider view behind one port, {@link ProviderSource}: the devnet console reads its providers over
 * HTTP (devnet-providers.ts), the provider daemon reads its own engine (src/daemon/console.ts). Here: the
 * port, the JSON both sources answer with, the sampler that keeps the pools' totals for the chart, and the
 * view's routes.
 */
import type { Context, Hono } from 'hono';
import { type AppError, ok, type Result } from '../errors/index.js';
import { orderPath } from '../lease/index.js';
import { errorResponse } from '../market/index.js';
import type { AuditJson, DecisionJson, PoolJson, ProviderJson, SampleJson } from './api-types.js';
import type { PoolHistory } from './history.js';
import { priceJson } from './tenant-api.js';

/** Audit entries the provider view shows. */
export const AUDIT_SHOWN = 200;

/** Where the provider view reads pools, audit trails and bid decisions. */
export interface ProviderSource {
  /** Every provider shown, with its pools now; one that cannot be asked carries its error. */
  providers(): Promise<Result<readonly ProviderJson[], AppError>>;
  /** A provider's newest audit entries ({@link AUDIT_SHOWN} at most), oldest first. */
  audit(address: string): Promise<Result<readonly AuditJson[], AppError>>;
  /** A provider's latest bid decisions with their reasons, newest first. */
  decisions(address: string): Promise<Result<readonly DecisionJson[], AppError>>;
}

/** One pool as the view shows it; an older provider that reports no reserved or quarantined count has none. */
export function poolJson(pool: {
  readonly name: string;
  readonly family?: string | undefined;
  readonly capacity: bigint;
  readonly allocated: bigint;
  readonly reserved?: bigint | undefined;
  readonly quarantined?: bigint | undefined;
  readonly available?: bigint | undefined;
}): PoolJson {
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
}

/** One decision of a bid engine, as its daemon keeps it or as `/bid-decisions` answers it. */
export function decisionJson(decision: {
  readonly order: { readonly dseq: string; readonly gseq: number; readonly oseq: number };
  readonly outcome: string;
  readonly code?: string | undefined;
  readonly message: string;
  readonly price?: { readonly amount: string } | undefined;
}): DecisionJson {
  const { order } = decision;
  return {
    order: orderPath(order),
    outcome: decision.outcome,
    ...(decision.code === undefined ? {} : { code: decision.code }),
    message: decision.message,
    ...(decision.price === undefined ? {} : { price: priceJson(decision.price.amount) }),
  };
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
  source: ProviderSource,
  history: PoolHistory,
  intervalMs: number,
): { stop(): void; sampleNow(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const sampleNow = async (): Promise<void> => {
    const providers = await source.providers();
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

/** The provider view's routes on the console's app (behind its token, Host and Origin checks). */
export function addProviderRoutes(app: Hono, source: ProviderSource, history: PoolHistory): void {
  const answer = <T>(c: Context, result: Result<T, AppError>) =>
    result.ok ? c.json(result.value as object) : errorResponse(c, result.error);
  app.get('/api/providers', async (c) => {
    const providers = await source.providers();
    return answer(c, providers.ok ? ok({ providers: providers.value, history: history.list() }) : providers);
  });
  app.get('/api/providers/:address/audit', async (c) =>
    answer(c, await source.audit(c.req.param('address'))),
  );
  app.get('/api/providers/:address/decisions', async (c) =>
    answer(c, await source.decisions(c.req.param('address'))),
  );
}
