/**
 * The Kubernetes + MetalLB backend: realizes the lease engine's IP declarations as `ProviderLeasedIP`
 * objects and LoadBalancer Services pinned to the addresses our IPAM chose, mirrors the IPAM pools into
 * MetalLB `IPAddressPool`s, and rebuilds its state from the cluster. An adapter: the core never imports it;
 * it implements the core's `Realizer` port and owns its configuration ({@link KubeClusterConfig}).
 */
export type { ClusterState, KubeBackendOptions } from './backend.js';
export { KubeBackend } from './backend.js';
export type { Listed, MalformedObject } from './client.js';
export { describeIssues, KubeClient, rejectedStatus } from './client.js';
export type {
  DirectConnection,
  KubeBackendConnection,
  KubeClusterConfig,
  KubeconfigReference,
  KubeSettings,
  Secret,
} from './connect.js';
export { connectionOf, connectKubeBackend } from './connect.js';
export { ServiceWarnings, type ServiceWarningsOptions } from './events.js';
export type {
  FakeFailure,
  FakeKubeGatewayOptions,
  FakeMatch,
  FakeRequest,
} from './fake-gateway.js';
export { FakeKubeGateway } from './fake-gateway.js';
export type {
  KubeConnection,
  KubeGateway,
  KubeMethod,
  KubeRequest,
  KubeResponse,
  KubeWatchEvent,
  KubeWatchEventType,
  KubeWatchRequest,
} from './gateway.js';
export { createHttpsGateway } from './gateway.js';
export type {
  InformerChange,
  InformerItem,
  InformerLogger,
  InformerOptions,
  InformerStats,
} from './informer.js';
export { Informer } from './informer.js';
export { type KubeconfigConnection, loadKubeconfig } from './kubeconfig.js';
export {
  IPV6_POLICY_LABEL,
  isObjectName,
  LABEL,
  leaseLabels,
  leaseNamespace,
  MANAGED_BY,
  METALLB,
  METALLB_LEGACY,
  serviceNames,
  sharingKey,
} from './names.js';
export {
  type DesiredPort,
  desiredPorts,
  familiesDiffer,
  IPV6_POLICIES,
  type Ipv6PolicyBody,
  ipv6PolicyBodies,
  networkPolicyMatches,
  networkPolicyPath,
  type ServiceStyle,
  serviceBody,
  serviceMatches,
  servicePatch,
  servicePath,
} from './objects.js';
export {
  type IpAddressPoolObject,
  ipAddressPoolSchema,
  metadataSchema,
  type NetworkPolicyObject,
  networkPolicySchema,
  type ObjectMeta,
  type ServiceObject,
  serviceSchema,
} from './schemas.js';
