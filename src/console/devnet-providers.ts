/**
 * The devnet console's {@link ProviderSource}: every provider registered on the session's ledger, asked over
 * HTTP (`/status`, and the internal `/ip-audit` and `/bid-decisions`, which answer loopback callers: the
 * devnet's providers run on this host).
 */
import { ok } from '../errors/index.js';
import type { Session } from '../tenant/index.js';
import type { ProviderJson } from './api-types.js';
import { AUDIT_SHOWN, decisionJson, type ProviderSource, poolJson } from './provider-api.js';
import { errorJson } from './tenant-api.js';

export function devnetProviders(session: Session): ProviderSource {
  return {
    async providers() {
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
        const pools = (status.value.cluster.inventory.pools ?? []).map(poolJson);
        out.push({ ...base, pools, ...(kubernetes === undefined ? {} : { kubernetes }) });
      }
      return ok(out);
    },
    async audit(address) {
      const client = await session.providerClient(address);
      if (!client.ok) return client;
      return client.value.recentAudit(AUDIT_SHOWN);
    },
    async decisions(address) {
      const client = await session.providerClient(address);
      if (!client.ok) return client;
      const decisions = await client.value.bidDecisions();
      return decisions.ok ? ok([...decisions.value].reverse().map(decisionJson)) : decisions;
    },
  };
}
