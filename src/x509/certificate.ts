/**
 * X.509 v3 certificates signed with ECDSA P-256 / SHA-256, built with node:crypto alone: a TBSCertificate
 * encoded in DER, signed by `crypto.sign` (whose ECDSA output is already the DER `Ecdsa-Sig-Value` X.509
 * wants). Enough for a webhook's CA and serving certificate, and for Akash's mTLS certificates
 * (self-signed, secp256r1, CN = the account address).
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { parseAddress } from '../ipam/index.js';
import {
  bitString,
  boolean,
  explicit,
  implicitPrimitive,
  integer,
  namedBits,
  octetString,
  oid,
  pem,
  sequence,
  set,
  time,
  utf8String,
} from './der.js';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** keyUsage bit numbers (RFC 5280 §4.2.1.3). */
const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;
export type KeyUsage = keyof typeof KEY_USAGE;

/** One more attribute of a name, e.g. Akash's auth version (`2.23.133.2.6` = `v0.0.1`). */
export interface NameAttribute {
  readonly oid: string;
  readonly value: string;
}

/** The distinguished name: a common name, optionally an organization, and further attributes after the CN. */
export interface DistinguishedName {
  readonly commonName: string;
  readonly organization?: string;
  readonly extra?: readonly NameAttribute[];
}

/** Who signs: the issuer's name, exactly as its own certificate holds it, and its public key. */
export interface Issuer {
  readonly name: DistinguishedName;
  readonly publicKey: KeyObject;
}

/** What the certificate's key may be used for in TLS (extKeyUsage). */
export type ExtendedUsage = 'serverAuth' | 'clientAuth';

export interface CertificateRequest {
  readonly subject: DistinguishedName;
  /** Absent: self-signed (the issuer is the subject and `signingKey` belongs to `publicKey`). */
  readonly issuer?: Issuer;
  /** The subject's P-256 public key. */
  readonly publicKey: KeyObject;
  /** The issuer's P-256 private key. */
  readonly signingKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A CA certificate (basicConstraints cA, keyCertSign); default a leaf. */
  readonly ca?: boolean;
  /**
   * keyUsage; default digitalSignature (a leaf) or digitalSignature, keyCertSign, cRLSign (a CA). Akash's
   * certificates use keyEncipherment and dataEncipherment.
   */
  readonly keyUsage?: readonly KeyUsage[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** extKeyUsage; none means the extension is left out (any use, as for Akash's certificates). */
  readonly usage?: readonly ExtendedUsage[];
  /** Positive, at most 20 bytes; default 16 random bytes. */
  readonly serial?: bigint;
}

/** A CA: its certificate and key, and the {@link Issuer} to sign with. */
export interface CertificateAuthority {
  readonly certificate: string;
  readonly key: KeyObject;
  readonly issuer: Issuer;
  readonly notAfter: Date;
}

/** A certificate with its key, PEM-encoded (what node:tls and Kubernetes Secrets take). */
export interface KeyedCertificate {
  readonly certificate: string;
  readonly key: string;
  readonly notAfter: Date;
}

const DNS_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;
const MAX_SERIAL = (1n << 159n) - 1n;

function invalid(message: string): { readonly ok: false; readonly error: AppError } {
  return fail(appError('INVALID_INPUT', `certificate: ${message}`));
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

function name(dn: DistinguishedName): Buffer {
  const attribute = (type: string, value: string): Buffer => set(sequence(oid(type), utf8String(value)));
  const rdns = [attribute(OID.commonName, dn.commonName)];
  if (dn.organization !== undefined) rdns.unshift(attribute(OID.organization, dn.organization));
  for (const extra of dn.extra ?? []) rdns.push(attribute(extra.oid, extra.value));
  return sequence(...rdns);
}

/** SHA-1 of the subjectPublicKey bits: RFC 5280 §4.2.1.2 method (1), what OpenSSL and Go compute. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // A P-256 SPKI is SEQUENCE { AlgorithmIdentifier, BIT STRING (0 unused bits, 65-byte point) }: the point ends it.
  return createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

function addressBytes(text: string): Result<Buffer> {
  const parsed = parseAddress(text);
  if (!parsed.ok) return invalid(parsed.error.message);
  const width = parsed.value.family === 'v4' ? 8 : 32;
  return ok(Buffer.from(parsed.value.value.toString(16).padStart(width, '0'), 'hex'));
}

function extensions(request: CertificateRequest): Result<Buffer> {
  const out: Buffer[] = [];
  const isCa = request.ca === true;
  out.push(extension(OID.basicConstraints, true, isCa ? sequence(boolean(true)) : sequence()));
  const usage: readonly KeyUsage[] =
    request.keyUsage ?? (isCa ? ['digitalSignature', 'keyCertSign', 'cRLSign'] : ['digitalSignature']);
  out.push(extension(OID.keyUsage, true, namedBits(usage.map((use) => KEY_USAGE[use]))));
  if (request.usage !== undefined && request.usage.length > 0) {
    out.push(extension(OID.extKeyUsage, false, sequence(...request.usage.map((use) => oid(OID[use])))));
  }
  const general: Buffer[] = [];
  for (const dns of request.dnsNames ?? []) {
    if (!DNS_NAME.test(dns) || dns.length > 253) return invalid(`"${dns}" is not a DNS name`);
    // dNSName is [2] IMPLICIT IA5String; the pattern above admits ASCII only.
    general.push(implicitPrimitive(2, Buffer.from(dns, 'ascii')));
  }
  for (const ip of request.ipAddresses ?? []) {
    const bytes = addressBytes(ip);
    if (!bytes.ok) return bytes;
    general.push(implicitPrimitive(7, bytes.value));
  }
  // RFC 5280 §4.2.1.6: with an empty subject the SAN would be critical; our subject always has a CN.
  if (general.length > 0) out.push(extension(OID.subjectAltName, false, sequence(...general)));
  out.push(extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(request.publicKey))));
  const authority = request.issuer?.publicKey ?? request.publicKey;
  out.push(
    extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyIdentifier(authority)))),
  );
  return ok(explicit(3, sequence(...out)));
}

/** Builds and signs a certificate; PEM `CERTIFICATE`. */
export function createCertificate(request: CertificateRequest): Result<string> {
  if (!isP256(request.publicKey) || request.publicKey.type !== 'public')
    return invalid('the subject key must be a P-256 public key');
  if (!isP256(request.signingKey) || request.signingKey.type !== 'private')
    return invalid('the signing key must be a P-256 private key');
  if (request.issuer !== undefined && !isP256(request.issuer.publicKey))
    return invalid("the issuer's key must be a P-256 public key");
  if (!(request.notBefore.getTime() < request.notAfter.getTime()))
    return invalid('notBefore must come before notAfter');
  if (request.subject.commonName.length === 0) return invalid('the common name is empty');
  const serial = request.serial ?? BigInt(`0x${randomBytes(16).toString('hex')}`) | 1n;
  if (serial <= 0n || serial > MAX_SERIAL) return invalid('the serial must be positive and fit 20 bytes');
  const exts = extensions(request);
  if (!exts.ok) return exts;
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(2n)),
    integer(serial),
    algorithm,
    name(request.issuer?.name ?? request.subject),
    sequence(time(request.notBefore), time(request.notAfter)),
    name(request.subject),
    request.publicKey.export({ type: 'spki', format: 'der' }),
    exts.value,
  );
  const signature = sign('sha256', tbs, request.signingKey);
  return ok(pem('CERTIFICATE', sequence(tbs, algorithm, bitString(signature))));
}

/** A new P-256 key pair. */
export function generateP256(): { readonly publicKey: KeyObject; readonly privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** A self-signed CA with a fresh P-256 key. */
export function createCa(options: {
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
}): Result<CertificateAuthority> {
  const keys = generateP256();
  const certificate = createCertificate({
    subject: options.subject,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    ca: true,
  });
  if (!certificate.ok) return certificate;
  return ok({
    certificate: certificate.value,
    key: keys.privateKey,
    issuer: { name: options.subject, publicKey: keys.publicKey },
    notAfter: options.notAfter,
  });
}

/** A certificate with a fresh P-256 key, signed by the CA. */
export function issueCertificate(
  ca: CertificateAuthority,
  request: Omit<CertificateRequest, 'issuer' | 'publicKey' | 'signingKey' | 'ca'>,
): Result<KeyedCertificate> {
  const keys = generateP256();
  const certificate = createCertificate({
    ...request,
    issuer: ca.issuer,
    publicKey: keys.publicKey,
    signingKey: ca.key,
  });
  if (!certificate.ok) return certificate;
  return ok({
    certificate: certificate.value,
    key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    notAfter: request.notAfter,
  });
}
