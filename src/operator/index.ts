/**
 * `akash-ip operator`: a drop-in replacement for the Akash provider's Go IP operator. It reads the
 * provider's `ProviderLeasedIP` objects and the named MetalLB pools, leases addresses with the lease engine,
 * writes the LoadBalancer Services Go writes (pinned to those addresses), and serves Go's HTTP contract.
 */
export {
  ENVIRONMENT,
  inClusterConnection,
  type KubeSource,
  type OperatorConfig,
  type OperatorFlags,
  parseOperatorConfig,
  SERVICE_ACCOUNT_DIR,
} from './config.js';
export { createOperatorApp, type OperatorAppDeps } from './http.js';
export { type DeclaredPort, parseLeasedIp } from './leased-ip.js';
export {
  type Ignored,
  IpOperator,
  type IpOperatorOptions,
  type LeaseState,
  type PortState,
} from './reconciler.js';
export { OPERATOR_VERSION, type RunningOperator, type RunOperatorOptions, runOperator } from './run.js';
