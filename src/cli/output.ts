/**
 * How commands print: the same data as JSON, YAML or a human table on stdout, errors and progress on
 * stderr. Colour follows the NO_COLOR / FORCE_COLOR conventions and is off when stdout is not a terminal.
 */
import { createRequire } from 'node:module';
import { Option } from '@commander-js/extra-typings';
import type Table from 'cli-table3';
import type picocolors from 'picocolors';
import type { stringify } from 'yaml';
import { type AppError, exitCode } from '../errors/index.js';
import type { Progress } from '../tenant/flows.js';
import type { CliIo } from './io.js';

/**
 * The table, YAML and colour libraries are required on first use: every command module imports this one to declare
 * `--output`, and neither `--help` nor the SDL commands should pay for loading them (picocolors loads node:tty,
 * and with it node:net, to ask whether stdout is a terminal).
 */
const require = createRequire(import.meta.url);
const tableClass = (): typeof Table => require('cli-table3') as typeof Table;
const colorLibrary = (): typeof picocolors => require('picocolors') as typeof picocolors;
const yamlStringify = (): typeof stringify => (require('yaml') as { stringify: typeof stringify }).stringify;

/** The output formats every read command accepts. */
const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Colour functions: picocolors' set, or identities when colour is off. */
export type Colors = ReturnType<typeof picocolors.createColors>;

/** `-o, --output <format>`, default `table`. */
export function outputOption() {
  return new Option('-o, --output <format>', 'output format: table, json or yaml')
    .choices(OUTPUT_FORMATS)
    .default('table' as OutputFormat);
}

/** Whether to colour text written to `stream`: FORCE_COLOR wins, then NO_COLOR, then "is it a terminal". */
export function colorEnabled(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** Colours for `stream`. */
export function colorsFor(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): Colors {
  return colorLibrary().createColors(colorEnabled(stream, env));
}

/** One table column: its header and how a row renders in it. */
export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
}

/** A borderless table (cli-table3), headers in bold; an empty table still prints its header. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], colors: Colors): string {
  const table = new (tableClass())({
    head: columns.map((column) => colors.bold(column.header)),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) table.push(columns.map((column) => column.value(row)));
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}

/**
 * Marks a bigint while JSON.stringify runs (it has no number form for them); random, so no string can forge it.
 * Made on first use, with the pattern that finds marked bigints in the JSON.
 */
let bigintMark: { readonly prefix: string; readonly marked: RegExp } | undefined;

function bigintMarker(): { readonly prefix: string; readonly marked: RegExp } {
  if (bigintMark === undefined) {
    const { randomUUID } = require('node:crypto') as typeof import('node:crypto');
    const prefix = `${randomUUID()}:`;
    bigintMark = { prefix, marked: new RegExp(`"${prefix}(-?[0-9]+)"`, 'g') };
  }
  return bigintMark;
}

function markedJson(data: unknown): string {
  const { prefix } = bigintMarker();
  return JSON.stringify(
    data,
    (_key, value: unknown) => (typeof value === 'bigint' ? `${prefix}${value}` : value),
    2,
  );
}

/** JSON for scripts: numbers as numbers, bigints included (with every digit, as IPv6 pool sizes need). */
export function toJson(data: unknown): string {
  return `${markedJson(data).replace(bigintMarker().marked, '$1')}\n`;
}

/** YAML of the same data as {@link toJson}. */
export function toYaml(data: unknown): string {
  const { prefix } = bigintMarker();
  const plain = JSON.parse(markedJson(data), (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(prefix) ? BigInt(value.slice(prefix.length)) : value,
  ) as unknown;
  return yamlStringify()(plain, { lineWidth: 0 });
}

/** What a command produced: the data (json/yaml) and its human rendering (table). */
export interface Report {
  readonly data: unknown;
  readonly human: (colors: Colors) => string;
  /** Why the report is partial: it still prints (what is known), but the command exits with this error's code. */
  readonly incomplete?: AppError | undefined;
}

/** Prints a report on stdout in `format`. */
export function emit(io: CliIo, format: OutputFormat, report: Report): void {
  if (format === 'json') io.stdout.write(toJson(report.data));
  else if (format === 'yaml') io.stdout.write(toYaml(report.data));
  else io.stdout.write(report.human(colorsFor(io.stdout)));
}

/** `error: CODE: message` on stderr; returns the exit code the error table gives the code. */
export function printError(io: CliIo, error: AppError): number {
  const colors = colorsFor(io.stderr);
  io.stderr.write(`${colors.red('error')}: ${colors.bold(error.code)}: ${error.message}\n`);
  return exitCode(error.code);
}

/** A {@link Progress} writing one dim line per step to the command's stderr, never to stdout. */
export function progressOn(io: CliIo): Progress {
  const colors = colorsFor(io.stderr);
  return (message) => io.stderr.write(`${colors.dim('·')} ${message}\n`);
}

/** Shortens a bech32 address for tables: `akash1abcd…wxyz`. */
export function shortAddress(address: string): string {
  return address.length <= 20 ? address : `${address.slice(0, 10)}…${address.slice(-6)}`;
}
