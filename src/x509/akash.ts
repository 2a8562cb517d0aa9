/**
 * Akash's account certificates: self-signed ECDSA P-256 certificates whose subject (and issuer) common name is
 * the account's `akash1…` address, published on chain with `MsgCreateCertificate` (owner, PEM certificate, PEM
 * public key) and revocable by serial. Providers serve their gateway with one; tenants present one for mTLS.
 * This module creates them and checks a presented certificate the way chain-sdk's `ValidatePeerCertificates`
 * does: against the certificate its owner published, at the current time.
 */
import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { isAddress } from '../identity/index.js';
import { createCertificate, type ExtendedUsage, generateP256 } from './certificate.js';
import { pem } from './der.js';

/** The label Akash's tools write around the public key (its DER is a SubjectPublicKeyInfo all the same). */
const PUBLIC_KEY_LABEL = 'EC PUBLIC KEY';

/** A certificate as an account publishes it, with its private key (PEM) for the owner's own use. */
export interface AccountCertificate {
  /** PEM `CERTIFICATE`. */
  readonly cert: string;
  /** PEM `EC PUBLIC KEY` (SubjectPublicKeyInfo), as `MsgCreateCertificate` carries it. */
  readonly pubkey: string;
  /** PEM PKCS#8 private key. */
  readonly key: string;
  /** The serial in decimal, the certificate's id on chain with its owner. */
  readonly serial: string;
  readonly notAfter: Date;
}

/** What the checks read from a certificate. */
export interface CertificateFacts {
  readonly commonName: string;
  readonly issuerCommonName: string;
  /** Decimal. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo DER, base64: compares keys across PEM labels. */
  readonly publicKey: string;
  /** extKeyUsage OIDs; undefined when the extension is absent (any use). */
  readonly extendedUsage?: readonly string[];
  readonly x509: X509Certificate;
}

const USAGE_OID: Readonly<Record<ExtendedUsage, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

function invalid(message: string, reason: string): { readonly ok: false; readonly error: AppError } {
  return fail(appError('CERTIFICATE_INVALID', message, { reason }));
}

function commonNameOf(name: string): string {
  return /^CN=(.*)$/m.exec(name)?.[1] ?? '';
}

function spki(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** Parses a PEM (or DER) certificate into the facts the checks need. */
export function certificateFacts(certificate: string | Buffer | X509Certificate): Result<CertificateFacts> {
  let x509: X509Certificate;
  try {
    x509 = certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
  } catch {
    return invalid('the certificate is not a PEM or DER X.509 certificate', 'unparsable');
  }
  const usage = x509.keyUsage; // node names extKeyUsage so
  return ok({
    commonName: commonNameOf(x509.subject),
    issuerCommonName: commonNameOf(x509.issuer),
    serial: BigInt(`0x${x509.serialNumber}`).toString(10),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    publicKey: spki(x509.publicKey),
    ...(usage === undefined ? {} : { extendedUsage: usage }),
    x509,
  });
}

/** A public key as `MsgCreateCertificate` carries it: PEM `EC PUBLIC KEY` around its SubjectPublicKeyInfo. */
export function publicKeyPem(key: KeyObject): string {
  return pem(PUBLIC_KEY_LABEL, key.export({ type: 'spki', format: 'der' }));
}

/** A public key PEM (`EC PUBLIC KEY` or `PUBLIC KEY`, both SubjectPublicKeyInfo) as base64 DER. */
export function publicKeyOfPem(text: string): Result<string> {
  const body = /-----BEGIN (?:EC )?PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END (?:EC )?PUBLIC KEY-----/.exec(
    text,
  );
  try {
    if (body?.[1] === undefined) throw new Error('no PEM block');
    return ok(spki(createPublicKey({ key: Buffer.from(body[1], 'base64'), format: 'der', type: 'spki' })));
  } catch {
    return invalid('the public key is not a PEM SubjectPublicKeyInfo', 'bad-pubkey');
  }
}

/**
 * Checks a certificate an account asks to publish, as Akash's cert module does: a self-signed P-256 certificate
 * whose subject and issuer CN are the owner, and a public key that is the certificate's.
 */
export function checkPublication(owner: string, cert: string, pubkey: string): Result<CertificateFacts> {
  const facts = certificateFacts(cert);
  if (!facts.ok) return facts;
  const { x509 } = facts.value;
  if (facts.value.commonName !== owner || facts.value.issuerCommonName !== owner) {
    return invalid(`the certificate's subject and issuer CN must be the owner ${owner}`, 'wrong-cn');
  }
  const details = x509.publicKey.asymmetricKeyDetails;
  if (x509.publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
    return invalid('the certificate key must be ECDSA P-256 (secp256r1)', 'wrong-key-type');
  }
  if (!x509.verify(x509.publicKey)) return invalid('the certificate is not self-signed', 'not-self-signed');
  const key = publicKeyOfPem(pubkey);
  if (!key.ok) return key;
  if (key.value !== facts.value.publicKey) {
    return invalid("the public key is not the certificate's", 'pubkey-mismatch');
  }
  return facts;
}

/** Why a presented certificate was refused; carried in `details.reason`. */
export type PeerRejection =
  | 'invalid-cn'
  | 'not-published'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-usage'
  | 'unparsable';

/**
 * Checks a certificate presented in a TLS handshake against the one its owner published (found by `published`
 * for the CN's owner and the certificate's serial; undefined when there is none in state valid): the CN must
 * be an `akash1` address and equal the issuer's, the published key must have signed it, it must be valid at
 * `now` and allowed `usage`. Returns the owner, or UNAUTHENTICATED with a {@link PeerRejection}.
 */
export function verifyPeerCertificate(
  presented: CertificateFacts,
  published: { readonly cert: string } | undefined,
  usage: ExtendedUsage,
  now: Date,
): Result<string> {
  const refuse = (reason: PeerRejection, message: string) =>
    fail(appError('UNAUTHENTICATED', message, { reason, serial: presented.serial }));
  const owner = presented.commonName;
  if (!isAddress(owner) || presented.issuerCommonName !== owner) {
    return refuse('invalid-cn', "the certificate's subject and issuer CN must be the same akash1 address");
  }
  if (published === undefined) {
    return refuse(
      'not-published',
      `${owner} has no valid certificate with serial ${presented.serial} on chain`,
    );
  }
  const onChain = certificateFacts(published.cert);
  if (!onChain.ok || !presented.x509.verify(onChain.value.x509.publicKey)) {
    return refuse('signature', `the certificate was not signed by the key ${owner} published`);
  }
  if (now < presented.notBefore) return refuse('not-yet-valid', 'the certificate is not valid yet');
  if (now > presented.notAfter) return refuse('expired', 'the certificate has expired');
  const usages = presented.extendedUsage;
  if (usages !== undefined && !usages.includes(USAGE_OID[usage])) {
    return refuse('wrong-usage', `the certificate may not be used for ${usage}`);
  }
  return ok(owner);
}

/**
 * A new self-signed account certificate (P-256, CN = the address): `client` for mTLS (extKeyUsage clientAuth),
 * `server` for a provider's gateway (serverAuth, with `hosts` as DNS names or IP addresses).
 */
export function createAccountCertificate(options: {
  readonly address: string;
  readonly kind: 'client' | 'server';
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly hosts?: readonly string[];
}): Result<AccountCertificate> {
  const keys = generateP256();
  const hosts = options.hosts ?? [];
  const ipAddresses = hosts.filter((host) => /^[0-9.]+$|:/.test(host));
  const dnsNames = hosts.filter((host) => !ipAddresses.includes(host));
  const cert = createCertificate({
    subject: { commonName: options.address },
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    usage: [options.kind === 'client' ? 'clientAuth' : 'serverAuth'],
    ...(dnsNames.length === 0 ? {} : { dnsNames }),
    ...(ipAddresses.length === 0 ? {} : { ipAddresses }),
  });
  if (!cert.ok) return cert;
  const facts = certificateFacts(cert.value);
  if (!facts.ok) return facts;
  return ok({
    cert: cert.value,
    pubkey: publicKeyPem(keys.publicKey),
    key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    serial: facts.value.serial,
    notAfter: options.notAfter,
  });
}
