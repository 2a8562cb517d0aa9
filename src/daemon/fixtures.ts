/**
 * Light test fixtures for the daemon: accounts, tokens, IP-lease SDLs and an old-layout manifest file. Apart
 * from testing.ts so that crash-test workers, started many times, load no HTTP or ledger code.
 */
import { hex } from '@scure/base';
import type { Result } from '../errors/index.js';
import {
  addressOf,
  type JwtClaims,
  type Leases,
  newClaims,
  parsePrivateKeyHex,
  publicKeyOf,
  signJwt,
} from '../identity/index.js';
import { leaseKey } from '../lease/index.js';
import { parseSdl, type Sdl } from '../sdl/index.js';
import { openSqliteFile } from '../store/index.js';
import type { DeployedLease } from './manifest-store.js';

/** Throws on a failure: fixtures are not under test. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** A deterministic secp256k1 account. */
export interface Account {
  readonly address: string;
  readonly privateKey: Uint8Array;
  /** Compressed public key, hex. */
  readonly pubkey: string;
}

/** The account whose private key is the 256-bit number `seed`. */
export function account(seed: number): Account {
  const privateKey = unwrap(parsePrivateKeyHex(seed.toString(16).padStart(64, '0')));
  const publicKey = publicKeyOf(privateKey);
  return { address: addressOf(publicKey), privateKey, pubkey: hex.encode(publicKey) };
}

/** A signed provider JWT of `who`, valid from `nowMs` for `ttlSeconds`. */
export function tokenOf(
  who: Account,
  nowMs: number,
  options: {
    readonly leases?: Leases;
    readonly ttlSeconds?: number;
    readonly claims?: Partial<JwtClaims>;
  } = {},
): string {
  const claims = newClaims(who.address, {
    now: Math.floor(nowMs / 1000),
    ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
    ...(options.leases === undefined ? {} : { leases: options.leases }),
  });
  return unwrap(signJwt({ ...claims, ...options.claims }, who.privateKey));
}

/** Standalone mode's `POST /leases` body: `owner`'s lease `dseq/1/1` of `sdl`'s one group. */
export function leaseRegistration(owner: Account, dseq: string, sdl: Sdl) {
  return { owner: owner.address, dseq, gseq: 1, oseq: 1, hash: sdl.manifestVersion, group: sdl.groups[0] };
}

/** An SDL with one service `web` exposing `ports` (container port → `as`) on IP endpoint `endpoint`. */
export function ipSdl(endpoint: string, ports: readonly (readonly [number, number])[] = [[80, 80]]): Sdl {
  return exposeSdl(ports.map(([port, as]) => ({ port, as, ip: endpoint })));
}

/** An SDL with one service `web` (2 replicas) and these global exposes, each on an IP endpoint. */
export function exposeSdl(
  exposes: readonly { readonly port: number; readonly as: number; readonly ip: string }[],
): Sdl {
  const endpoints = [...new Set(exposes.map((expose) => expose.ip))]
    .map((name) => `  ${name}:\n    kind: ip\n`)
    .join('');
  const lines = exposes
    .map(
      ({ port, as, ip }) =>
        `      - port: ${port}\n        as: ${as}\n        to:\n          - global: true\n            ip: ${ip}\n`,
    )
    .join('');
  const text = `version: "2.0"
endpoints:
${endpoints}services:
  web:
    image: nginx:1.27
    expose:
${lines}profiles:
  compute:
    web:
      resources:
        cpu: {units: 0.5}
        memory: {size: 512Mi}
        storage: {size: 1Gi}
  placement:
    dcloud:
      attributes:
        ip-lease: true
      pricing:
        web: {denom: uakt, amount: 1000}
deployment:
  web:
    dcloud: {profile: web, count: 2}
`;
  const parsed = parseSdl(text);
  if (!parsed.ok) throw new Error(parsed.error.map((problem) => problem.message).join('; '));
  return parsed.value;
}

/** Writes `leases` to a manifest file at `path` in the layout of builds that kept manifests apart. */
export function writeLegacyManifestFile(path: string, leases: readonly DeployedLease[]): void {
  const db = openSqliteFile(path, 1000);
  db.exec(`CREATE TABLE manifests (
    key TEXT PRIMARY KEY, owner TEXT NOT NULL, dseq TEXT NOT NULL, gseq INTEGER NOT NULL, oseq INTEGER NOT NULL,
    provider TEXT NOT NULL, manifest_group TEXT NOT NULL, version TEXT NOT NULL, deployed_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID`);
  const insert = db.prepare('INSERT INTO manifests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  for (const { id, group, version, deployedAt, updatedAt } of leases) {
    insert.run(
      leaseKey(id),
      id.owner,
      id.dseq,
      id.gseq,
      id.oseq,
      id.provider,
      JSON.stringify(group),
      version,
      deployedAt,
      updatedAt,
    );
  }
  db.close();
}
