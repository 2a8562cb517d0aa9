/**
 * The leased-IP admission webhook: tenant pods created in a lease namespace get their service's leased
 * addresses as environment variables (`AKASH_LEASED_IP_<ENDPOINT>`, `AKASH_LEASED_IP6_<ENDPOINT>`,
 * `AKASH_LEASED_IPS`). A face over a {@link LeasedIpLookup} port, so the daemon ({@link engineLookup})
 * and the operator both serve it; it writes its `MutatingWebhookConfiguration` through src/k8s's gateway,
 * rotates its own CA and certificate (src/x509), reports whether a lease's pods carry the current
 * addresses, and, opted in, rolls a lease's workloads once.
 */
export type { RotationStep, RotationTargets, WebhookCertificateOptions } from './certificates.js';
export { WebhookCertificates } from './certificates.js';
export { type EngineLookup, engineLookup } from './engine-lookup.js';
export {
  type ConfirmationOf,
  type IpEnvStatus,
  ipEnvStatus,
  LeaseWebhook,
  type LeaseWebhookOptions,
  type WebhookLogger,
} from './host.js';
export type { WebhookConfigurationSpec, WebhookEndpoint } from './install.js';
export {
  applyWebhookConfiguration,
  CONFIGURATION_PATH,
  DEFAULT_CONFIGURATION_NAME,
  endpointCertificateNames,
  WEBHOOK_NAME,
  webhookConfiguration,
  webhookUrlHost,
} from './install.js';
export { webhookMetrics } from './metrics.js';
export { envPatch, INJECTED_ANNOTATION, type PatchOperation } from './patch.js';
export type { LeasePodsReport, PodAddressState, RolloutOptions, RolloutResult } from './pods.js';
export { checkLeasePods, RESTARTED_AT_ANNOTATION, ROLLED_ANNOTATION, rollOnce } from './pods.js';
export type { Decision, LeasedIpLookup, ReviewOutcome } from './review.js';
export { MANIFEST_SERVICE_LABEL, review } from './review.js';
export { type RunningWebhook, startWebhook, type WebhookRunOptions } from './runner.js';
export type { ReviewObserver, ServingCertificate, WebhookServer, WebhookServerOptions } from './server.js';
export { createWebhookServer, MUTATE_PATH } from './server.js';
export {
  type EndpointAddresses,
  type LeasedIpVariables,
  LIST_VARIABLE,
  leasedIpVariables,
} from './variables.js';
