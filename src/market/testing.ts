/** Builders for the marketplace's tests: accounts, and GroupSpecs shaped like the SDL engine's output. */
import { addressOf, parsePrivateKeyHex, publicKeyOf } from '../identity/index.js';
import type { Attribute, GroupSpec } from './types.js';

/** A deterministic secp256k1 account for tests. */
export interface TestAccount {
  readonly address: string;
  readonly privateKey: Uint8Array;
  /** Compressed public key, hex. */
  readonly pubkey: string;
}

/** The account whose private key is `seed` (1-based) as a 256-bit number. */
export function testAccount(seed: number): TestAccount {
  const key = parsePrivateKeyHex(seed.toString(16).padStart(64, '0'));
  if (!key.ok) throw new Error(`bad test key seed ${seed}`);
  const publicKey = publicKeyOf(key.value);
  return {
    address: addressOf(publicKey),
    privateKey: key.value,
    pubkey: Buffer.from(publicKey).toString('hex'),
  };
}

/** One resource unit for {@link groupSpec}; sizes in bytes, cpu in millicpu. */
export interface UnitOptions {
  readonly id?: number;
  readonly count?: number;
  readonly millicpu?: number;
  readonly memory?: number;
  readonly storage?: readonly { readonly size: number; readonly attributes?: readonly Attribute[] }[];
  readonly gpu?: { readonly units: number; readonly attributes?: readonly Attribute[] };
  /** Random-port endpoints, and leased-IP sequence numbers (each also gets its random port, as the SDL engine emits). */
  readonly randomPorts?: number;
  readonly ips?: readonly number[];
  /** Price per replica per block, uakt. */
  readonly price?: string;
}

export interface GroupOptions {
  readonly name?: string;
  readonly attributes?: readonly Attribute[] | null;
  readonly signedBy?: { readonly allOf?: readonly string[]; readonly anyOf?: readonly string[] };
  readonly units?: readonly UnitOptions[];
}

/** A GroupSpec; defaults to one replica of 0.5 CPU, 512 MiB, 1 GiB, priced 1000 uakt/block. */
export function groupSpec(options: GroupOptions = {}): GroupSpec {
  const units = options.units ?? [{}];
  return {
    name: options.name ?? 'dcloud',
    requirements: {
      signed_by: { all_of: options.signedBy?.allOf ?? null, any_of: options.signedBy?.anyOf ?? null },
      attributes: options.attributes === undefined ? null : options.attributes,
    },
    resources: units.map((unit, index) => ({
      resource: {
        id: unit.id ?? index + 1,
        cpu: { units: { val: String(unit.millicpu ?? 500) } },
        memory: { size: { val: String(unit.memory ?? 512 * 2 ** 20) } },
        storage: (unit.storage ?? [{ size: 2 ** 30 }]).map((volume, n) => ({
          name: n === 0 ? 'default' : `data${n}`,
          size: { val: String(volume.size) },
          ...(volume.attributes === undefined ? {} : { attributes: volume.attributes }),
        })),
        gpu: {
          units: { val: String(unit.gpu?.units ?? 0) },
          ...(unit.gpu?.attributes === undefined ? {} : { attributes: unit.gpu.attributes }),
        },
        endpoints: [
          ...Array.from({ length: unit.randomPorts ?? 0 }, () => ({ kind: 1 as const, sequence_number: 0 })),
          ...(unit.ips ?? []).flatMap((seq) => [
            { kind: 1 as const, sequence_number: 0 },
            { kind: 2 as const, sequence_number: seq },
          ]),
        ],
      },
      count: unit.count ?? 1,
      price: { denom: 'uakt', amount: `${unit.price ?? '1000'}.000000000000000000` },
    })),
  };
}

/** The requirement `ip-lease: true`, as SDL placement attributes produce it. */
export const IP_LEASE: Attribute = Object.freeze({ key: 'ip-lease', value: 'true' });

/** A 64-hex-digit manifest hash, distinct per seed. */
export function hashOf(seed: number): string {
  return seed.toString(16).padStart(64, '0');
}
