/**
 * The provider IP-lease engine: deploy, update, close and migrate IP endpoints of leases, gate bids
 * on free addresses, and report lease-status `ips`, workload variables and an audit trail. Pure core:
 * storage comes in through the {@link LeaseStore} port (adapters in src/store); faces that make an
 * outside system hold the leases implement the {@link Realizer} port (src/k8s).
 */
export type { DeclarationInput } from './declarations.js';
export { checkAgainstSpec, checkDeclarations, declarationsOf, leasedIpSequences } from './declarations.js';
export type {
  AddressPins,
  CloseResult,
  DeclarationsDeployOptions,
  DeployOptions,
  DeployResult,
  LeaseEngine,
  LeaseEngineOptions,
  MaintainResult,
  MigrateRequest,
  MigrationMove,
  MigrationResult,
  MutationOptions,
  PoolChangeResult,
  ReserveResult,
} from './engine.js';
export { createLeaseEngine, DEFAULT_QUARANTINE_MS } from './engine.js';
export {
  addressesPerEndpoint,
  addressFamily,
  type FamilyOffer,
  familiesOf,
  familyOfAddresses,
  familyOfAttribute,
  IP_LEASE_ATTRIBUTE,
  ipLeaseAttributes,
  offeredFamilies,
  requestedFamily,
} from './family.js';
export { endpointKey, leaseKey, orderKey, orderPath } from './ids.js';
export type { LeaseStore, StoreChange, StoreDocument, StoreSnapshot } from './ports.js';
export { storeChange } from './ports.js';
export type {
  PoolSyncResult,
  RealizedLease,
  RealizedPort,
  Realizer,
  ReconcileResult,
  WriteCounts,
} from './realizer.js';
export type * from './types.js';
export { endpointEnvNames, endpointVariables, envName, ipv6EnvName } from './views.js';
