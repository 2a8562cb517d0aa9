/**
 * X.509 certificates with node:crypto only: a small DER encoder and ECDSA P-256 / SHA-256 signing.
 * Used for the admission webhook's CA and serving certificates, and general enough for Akash's
 * provider and tenant certificates (self-signed secp256r1, CN = the account address).
 */

export {
  type AccountCertificate,
  type CertificateFacts,
  certificateFacts,
  checkPublication,
  createAccountCertificate,
  type PeerRejection,
  publicKeyOfPem,
  publicKeyPem,
  verifyPeerCertificate,
} from './akash.js';
export type {
  CertificateAuthority,
  CertificateRequest,
  DistinguishedName,
  ExtendedUsage,
  Issuer,
  KeyedCertificate,
  KeyUsage,
  NameAttribute,
} from './certificate.js';
export { createCa, createCertificate, generateP256, issueCertificate } from './certificate.js';
