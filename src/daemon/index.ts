/**
 * The provider daemon: an Akash-compatible HTTP API over the IP-lease engine (manifests, lease status with
 * `ips`, endpoint migration, provider status and the IP operator's routes), JWT authentication, metrics,
 * and, in devnet mode, registration, bidding and event following on the ledger.
 */
export { createProviderApp, type ProviderAppDeps } from './app.js';
export { type PubkeyLookup, TokenVerifier, type TokenVerifierOptions } from './auth.js';
export { type Chain, type DeploymentFacts, ledgerChain, type RegisteredLease, StaticChain } from './chain.js';
export { loadConfig, type ProviderConfig, parseConfig } from './config.js';
export type { IpLeaseStatusEntry, ServiceStatus } from './lease-status.js';
export { LedgerSync, type LedgerSyncOptions } from './ledger-sync.js';
export { jsonLogger, type Logger, type LogLevel, memoryLogger } from './logger.js';
export { type DeployedLease, legacyManifestPathOf, MANIFEST_NAMESPACE } from './manifest-store.js';
export { createMetrics, type DaemonMetrics } from './metrics.js';
export { Readiness } from './readiness.js';
export { type RunningProvider, type RunProviderOptions, runProvider } from './run.js';
export { type FastLaneDeps, listen, providerListener } from './server.js';
export {
  type DeployedLeaseReport,
  type ManifestReport,
  type MigrationReport,
  ProviderService,
  type ProviderServiceOptions,
  parseLeasePath,
} from './service.js';
