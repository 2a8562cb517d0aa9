import type { Command } from '@commander-js/extra-typings';
import { fail, ok, type Result } from '../../errors/index.js';
import type { KeyInfo } from '../../identity/index.js';
import type { CliIo } from '../io.js';
import { outputOption, type Report, renderTable } from '../output.js';
import { finish, pathsOf } from './common.js';

/** A key as the keys commands print it; `keyring` says which folder holds it. */
interface KeyRow {
  readonly name: string;
  readonly address: string;
  readonly pubkey: string;
  readonly keyring: 'home' | 'devnet';
}

function row(info: KeyInfo, keyring: KeyRow['keyring']): KeyRow {
  return {
    name: info.name,
    address: info.address,
    pubkey: Buffer.from(info.publicKey).toString('hex'),
    keyring,
  };
}

/** The keyring and the folders, loaded when a keys command runs. */
async function keyring() {
  const [identity, home, session] = await Promise.all([
    import('../../identity/index.js'),
    import('../../tenant/home.js'),
    import('../../tenant/session.js'),
  ]);
  return { ...identity, ...home, findKey: session.findKey };
}

function keysReport(rows: readonly KeyRow[], single: boolean): Report {
  return {
    data: single ? rows[0] : rows,
    human: (colors) =>
      renderTable(
        rows,
        [
          { header: 'NAME', value: (r) => r.name },
          { header: 'ADDRESS', value: (r) => r.address },
          { header: 'KEYRING', value: (r) => r.keyring },
        ],
        colors,
      ),
  };
}

/** Registers `akash-ip keys add|list|show`. */
export function registerKeysCommands(program: Command, io: CliIo, exit: { code: number }): void {
  const keys = program
    .command('keys')
    .description('manage tenant keys (secp256k1, one 0600 file per key in <home>/keys)');

  keys
    .command('add')
    .description('create a new random key; fund it on a devnet with `akash-ip fund NAME`')
    .argument('<name>', 'key name: lowercase letters, digits, - and _')
    .option('--force', 'replace an existing key of that name (its old secret is lost)')
    .addOption(outputOption())
    .action(async (name, options, command) => {
      const { addKey } = await keyring();
      const paths = await pathsOf(command, io);
      const added = await addKey(paths.keyring, name, { force: options.force === true });
      finish(io, exit, options.output, added.ok ? ok(keysReport([row(added.value, 'home')], true)) : added);
    });

  keys
    .command('list')
    .description('list the keys of the home keyring, then those of the devnet')
    .addOption(outputOption())
    .action(async (options, command) => {
      const { devnetKeyring, listKeys } = await keyring();
      const paths = await pathsOf(command, io);
      const rows: KeyRow[] = [];
      let failure: Result<never> | undefined;
      for (const [dir, keyring] of [
        [paths.keyring, 'home'],
        [devnetKeyring(paths.data), 'devnet'],
      ] as const) {
        const listed = await listKeys(dir);
        if (!listed.ok) {
          failure = fail(listed.error);
          break;
        }
        rows.push(...listed.value.map((info) => row(info, keyring)));
      }
      finish(io, exit, options.output, failure ?? ok(keysReport(rows, false)));
    });

  keys
    .command('show')
    .description('show a key’s address and public key (never its secret)')
    .argument('<name>', 'key name')
    .addOption(outputOption())
    .action(async (name, options, command) => {
      const { findKey } = await keyring();
      const paths = await pathsOf(command, io);
      const found = await findKey(paths, name);
      if (!found.ok) {
        finish(io, exit, options.output, found);
        return;
      }
      const shown = row(found.value.key, found.value.keyring);
      finish(
        io,
        exit,
        options.output,
        ok({
          data: shown,
          human: () =>
            `name     ${shown.name}\naddress  ${shown.address}\npubkey   ${shown.pubkey}\nkeyring  ${shown.keyring}\n`,
        }),
      );
    });
}
