/**
 * The command line before commander sees it: the global options every command understands and which top-level
 * command a command line names. Free of imports, so the launcher (launch.ts) can pick an entry from it before
 * loading any command code.
 */

/** The options every tenant command understands, anywhere on the command line (commands/common.ts adds them). */
export const GLOBAL_OPTIONS: readonly {
  readonly flags: `--${string} <${string}>`;
  readonly description: string;
}[] = [
  {
    flags: '--home <dir>',
    description:
      'home folder: keyring in <dir>/keys, devnet in <dir>/devnet (default $AKASH_IP_HOME or ~/.akash-ip)',
  },
  { flags: '--data <dir>', description: 'devnet data folder, for another devnet than <home>/devnet' },
  { flags: '--ledger <url>', description: 'ledger URL, instead of the one in the devnet data folder' },
  { flags: '--from <key>', description: 'tenant key name (default "tenant", the key the devnet funds)' },
];

/** The top-level command of the SDL commands, which the launcher runs from a bundle of their own. */
export const SDL_COMMAND = 'sdl';

/** The global options' flags, each of which takes the next word as its value. */
const TAKING_VALUE = new Set(GLOBAL_OPTIONS.map((option) => option.flags.split(' ')[0]));

/** The top-level command `argv` names: its first word that is neither an option nor a global option's value. */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    if (arg === '--') return undefined;
    if (!arg.startsWith('-')) return arg;
    if (TAKING_VALUE.has(arg)) index++;
  }
  return undefined;
}
