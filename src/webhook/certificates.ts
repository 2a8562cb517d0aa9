/**
 * The webhook's CA and serving certificate, and their rotation. The apiserver trusts the CAs in the
 * configuration's `caBundle`; the server presents a certificate from the signing CA. Order matters: a new
 * CA is published in the bundle (next to the old one) first, and only a later rotation step, once the
 * apiserver has had `settleMs` to read the new bundle, serves a certificate signed by it. The old CA stays
 * in the bundle until it expires, so a connection made with the old certificate still verifies.
 */
import { X509Certificate } from 'node:crypto';
import { type AppError, ok, type Result } from '../errors/index.js';
import { type CertificateAuthority, createCa, issueCertificate } from '../x509/index.js';
import type { ServingCertificate } from './server.js';

const DAY = 86_400_000;

export interface WebhookCertificateOptions {
  /** Names the apiserver dials: the Service's DNS names in cluster, 127.0.0.1 for a local daemon. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Default 365 days. */
  readonly caValidityMs?: number;
  /** A new CA is made when the signing one has less than this left; default 30 days. */
  readonly caRenewBeforeMs?: number;
  /** Default 30 days. */
  readonly certificateValidityMs?: number;
  /** A new serving certificate is issued when the current one has less than this left; default 10 days. */
  readonly certificateRenewBeforeMs?: number;
  /** How long a newly published bundle is given before a certificate from its new CA is served; default 30 s. */
  readonly settleMs?: number;
  readonly now?: () => number;
}

/** What one rotation step did. */
export interface RotationStep {
  /** The bundle changed and was published. */
  readonly bundle: boolean;
  /** A new serving certificate was issued and handed to `serve`. */
  readonly certificate: boolean;
}

/** Where rotation writes: the bundle to the configuration, the certificate to the server. */
export interface RotationTargets {
  publish(caBundle: string): Promise<Result<void, AppError>>;
  serve(certificate: ServingCertificate): void;
}

type ResolvedOptions = Required<Omit<WebhookCertificateOptions, 'dnsNames' | 'ipAddresses'>> &
  Pick<WebhookCertificateOptions, 'dnsNames' | 'ipAddresses'>;

// Certificates are back-dated a little: clocks of the apiserver and this process may differ.
const BACKDATE_MS = 5 * 60_000;

export class WebhookCertificates {
  readonly #options: ResolvedOptions;
  #signing: CertificateAuthority;
  /** Trusted CAs other than the signing one: a new CA waiting to sign, or an old one until it expires. */
  #others: CertificateAuthority[] = [];
  /** The successor of the signing CA, in the bundle but not signing yet; `publishedAt` once the bundle was written. */
  #next: { ca: CertificateAuthority; publishedAt?: number } | undefined;
  #serving: ServingCertificate & { notAfter: number };

  private constructor(
    options: ResolvedOptions,
    signing: CertificateAuthority,
    serving: ServingCertificate & { notAfter: number },
  ) {
    this.#options = options;
    this.#signing = signing;
    this.#serving = serving;
  }

  /** A fresh CA and serving certificate. */
  static create(options: WebhookCertificateOptions = {}): Result<WebhookCertificates> {
    const resolved = {
      caValidityMs: options.caValidityMs ?? 365 * DAY,
      caRenewBeforeMs: options.caRenewBeforeMs ?? 30 * DAY,
      certificateValidityMs: options.certificateValidityMs ?? 30 * DAY,
      certificateRenewBeforeMs: options.certificateRenewBeforeMs ?? 10 * DAY,
      settleMs: options.settleMs ?? 30_000,
      now: options.now ?? Date.now,
      ...(options.dnsNames === undefined ? {} : { dnsNames: options.dnsNames }),
      ...(options.ipAddresses === undefined ? {} : { ipAddresses: options.ipAddresses }),
    };
    const ca = newCa(resolved);
    if (!ca.ok) return ca;
    const serving = issue(resolved, ca.value);
    if (!serving.ok) return serving;
    return ok(new WebhookCertificates(resolved, ca.value, serving.value));
  }

  /** PEM of every CA to trust, the signing one first. */
  caBundle(): string {
    const all = [this.#signing, ...this.#others, ...(this.#next === undefined ? [] : [this.#next.ca])];
    return all.map((ca) => ca.certificate).join('');
  }

  serving(): ServingCertificate {
    return { cert: this.#serving.cert, key: this.#serving.key };
  }

  /**
   * One rotation step; call it periodically (and once after start, to publish the bundle). `force` renews
   * now what would otherwise wait for its expiry window (an operator's request, or a test).
   */
  async rotate(targets: RotationTargets, force?: 'ca' | 'certificate'): Promise<Result<RotationStep>> {
    const now = this.#options.now();
    let bundle = false;
    let certificate = false;
    // 1. Drop expired CAs.
    const kept = this.#others.filter((ca) => ca.notAfter.getTime() > now);
    if (kept.length !== this.#others.length) {
      this.#others = kept;
      bundle = true;
    }
    // 2. A CA near its end gets a successor, published before it signs anything.
    const caDue = this.#signing.notAfter.getTime() - now < this.#options.caRenewBeforeMs || force === 'ca';
    if (this.#next === undefined && caDue) {
      const ca = newCa(this.#options);
      if (!ca.ok) return ca;
      this.#next = { ca: ca.value };
    }
    // A successor whose publication failed is published again on the next step.
    if (this.#next !== undefined && this.#next.publishedAt === undefined) bundle = true;
    if (bundle) {
      const published = await targets.publish(this.caBundle());
      if (!published.ok) return published;
      if (this.#next !== undefined) this.#next.publishedAt ??= now;
    }
    // 3. A published successor that had time to reach the apiserver starts signing.
    const publishedAt = this.#next?.publishedAt;
    if (
      this.#next !== undefined &&
      publishedAt !== undefined &&
      now - publishedAt >= this.#options.settleMs
    ) {
      this.#others.push(this.#signing);
      this.#signing = this.#next.ca;
      this.#next = undefined;
      certificate = true;
    }
    // 4. A serving certificate near its end is renewed.
    if (this.#serving.notAfter - now < this.#options.certificateRenewBeforeMs || force === 'certificate')
      certificate = true;
    if (certificate) {
      const serving = issue(this.#options, this.#signing);
      if (!serving.ok) return serving;
      this.#serving = serving.value;
      targets.serve(this.serving());
    }
    return ok({ bundle, certificate });
  }
}

function newCa(options: ResolvedOptions): Result<CertificateAuthority> {
  const now = options.now();
  return createCa({
    subject: { commonName: `akash-ip webhook CA ${new Date(now).toISOString()}`, organization: 'akash-ip' },
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + options.caValidityMs),
  });
}

function issue(
  options: ResolvedOptions,
  ca: CertificateAuthority,
): Result<ServingCertificate & { notAfter: number }> {
  const now = options.now();
  const notAfter = Math.min(now + options.certificateValidityMs, ca.notAfter.getTime());
  const issued = issueCertificate(ca, {
    subject: { commonName: options.dnsNames?.[0] ?? options.ipAddresses?.[0] ?? 'akash-ip-webhook' },
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    ...(options.dnsNames === undefined ? {} : { dnsNames: options.dnsNames }),
    ...(options.ipAddresses === undefined ? {} : { ipAddresses: options.ipAddresses }),
    usage: ['serverAuth'],
  });
  if (!issued.ok) return issued;
  // The certificate says when it ends; read it back rather than trust the arithmetic above.
  const end = new Date(new X509Certificate(issued.value.certificate).validTo).getTime();
  return ok({ cert: issued.value.certificate, key: issued.value.key, notAfter: end });
}
