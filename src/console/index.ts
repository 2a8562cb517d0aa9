/**
 * The web console: a page for tenants (SDL editor with the engine's live diagnostics, deploy with bids as
 * they arrive, leases, update, migrate, close) and for providers (pools over time, audit, bid decisions),
 * served on 127.0.0.1 with a per-run token by `npm start` and `akash-ip console`; the provider daemon serves
 * the provider view alone over its own engine (a {@link ProviderSource}). See README.md in this folder.
 */
export type * from './api-types.js';
export { AUDIT_SHOWN, decisionJson, type ProviderSource, poolJson } from './provider-api.js';
export {
  type ConsoleOptions,
  type ConsoleSubject,
  DEFAULT_SAMPLE_MS,
  type RunningConsole,
  startConsole,
} from './server.js';
