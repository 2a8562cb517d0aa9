/**
 * The tenant's side of IP leases, shared by its two faces (the CLI and the web console): where the devnet's
 * files live, opening a session (key, ledger client, provider clients over pinned TLS), the deploy, update,
 * migrate and close flows with their lease state, and the endpoint rows and next steps both faces show.
 * Nothing here prints: the faces render. The console imports this door; the CLI, which loads only what a
 * command runs (test/e2e/startup.test.ts), imports the single modules it needs.
 */
export { type EndpointRow, endpointRows, nextSteps } from './endpoints.js';
export {
  type BidChoice,
  chooseBid,
  type DeployEvent,
  type DeploymentState,
  type DeployOptions,
  deploy,
  fetchLeaseState,
  formatPrice,
  type LeaseState,
  type OrderBids,
  type Progress,
  type Release,
  type UpdateOptions,
  update,
} from './flows.js';
export { type DevnetFile, type Paths, readDevnetFile, resolvePaths } from './home.js';
export { type LeaseStatus, ProviderClient, type ProviderStatus } from './provider-client.js';
export { type ProviderTrust, providerFetch } from './provider-transport.js';
export { type ConnectionOptions, DEFAULT_TENANT_KEY, openSession, type Session } from './session.js';
