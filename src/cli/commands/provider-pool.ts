import type { Command } from '@commander-js/extra-typings';
import { type AppError, ok, type Result } from '../../errors/index.js';
import type { Session } from '../../tenant/session.js';
import type { CliIo } from '../io.js';
import { outputOption, type Report, renderTable } from '../output.js';
import { providerCommand, withSession } from './common.js';

/**
 * One pool of one provider, as `provider pool` prints it: counts are numbers (bigints, exact for IPv6 pools) and
 * what the provider did not say is null; only the table shows placeholders.
 */
interface PoolRow {
  readonly provider: string;
  readonly address: string;
  /** null for a provider without pools, or one that did not answer. */
  readonly pool: string | null;
  readonly family: string | null;
  readonly capacity: bigint | null;
  readonly allocated: bigint | null;
  readonly reserved: bigint | null;
  readonly quarantined: bigint | null;
  readonly available: bigint | null;
  /** Why the provider's pools are unknown. */
  readonly error: string | null;
}

async function poolRows(session: Session, only: string | undefined): Promise<Result<PoolRow[], AppError>> {
  let addresses: string[];
  if (only !== undefined) addresses = [only];
  else {
    const listed = await session.ledger.listProviders();
    if (!listed.ok) return listed;
    addresses = listed.value
      .map((provider) => provider.address)
      .sort((a, b) => session.providerLabel(a).localeCompare(session.providerLabel(b)));
  }
  const rows: PoolRow[] = [];
  for (const address of addresses) {
    const provider = session.providerLabel(address);
    const client = await session.providerClient(address);
    const status = client.ok ? await client.value.status() : client;
    if (!status.ok) {
      if (only !== undefined) return status;
      rows.push({
        ...unknownPool(provider, address),
        error: `${status.error.code}: ${status.error.message}`,
      });
      continue;
    }
    const pools = status.value.cluster.inventory.pools ?? [];
    if (pools.length === 0) {
      const none = { capacity: 0n, allocated: 0n, reserved: 0n, quarantined: 0n, available: 0n };
      rows.push({ ...unknownPool(provider, address), ...none });
    }
    for (const pool of pools) {
      rows.push({
        provider,
        address,
        pool: pool.name,
        family: pool.family ?? null,
        capacity: pool.capacity,
        allocated: pool.allocated,
        reserved: pool.reserved ?? null,
        quarantined: pool.quarantined ?? null,
        available: pool.available ?? null,
        error: null,
      });
    }
  }
  return ok(rows);
}

/** A provider's row before anything is known about its pools. */
function unknownPool(provider: string, address: string): PoolRow {
  return {
    provider,
    address,
    pool: null,
    family: null,
    capacity: null,
    allocated: null,
    reserved: null,
    quarantined: null,
    available: null,
    error: null,
  };
}

function poolReport(rows: readonly PoolRow[]): Report {
  const cell = (value: bigint | string | null) => (value === null ? '-' : value.toString());
  return {
    data: rows,
    human: (colors) =>
      renderTable(
        rows,
        [
          { header: 'PROVIDER', value: (r) => r.provider },
          { header: 'POOL', value: (r) => cell(r.pool) },
          { header: 'CAPACITY', value: (r) => cell(r.capacity) },
          { header: 'ALLOCATED', value: (r) => cell(r.allocated) },
          { header: 'RESERVED', value: (r) => cell(r.reserved) },
          { header: 'QUARANTINED', value: (r) => cell(r.quarantined) },
          { header: 'AVAILABLE', value: (r) => (r.error === null ? cell(r.available) : colors.red(r.error)) },
        ],
        colors,
      ),
  };
}

/** Registers `akash-ip provider pool`. */
export function registerProviderPoolCommand(program: Command, io: CliIo, exit: { code: number }): void {
  const provider = providerCommand(program);
  provider
    .command('pool')
    .description(
      'show each provider’s IP pools: capacity, allocated, reserved by bids, quarantined, available',
    )
    .option('--provider <name-or-address>', 'only this provider')
    .addOption(outputOption())
    .action((options, command) =>
      withSession(command, io, exit, options.output, async (session) => {
        let only: string | undefined;
        if (options.provider !== undefined) {
          const resolved = session.resolveProvider(options.provider);
          if (!resolved.ok) return resolved;
          only = resolved.value;
        }
        const rows = await poolRows(session, only);
        return rows.ok ? ok(poolReport(rows.value)) : rows;
      }),
    );
}
