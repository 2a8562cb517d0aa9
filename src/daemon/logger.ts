/** One JSON object per line per event, so supervisors and the devnet can parse the daemon's output. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The daemon's logging port: a message plus flat, JSON-serialisable fields. */
export interface Logger {
  log(level: LogLevel, msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** Writes `{"time","level","msg",...fields}` lines to `out`; bigints are written as strings. */
export function jsonLogger(out: { write(text: string): unknown }, now: () => number = Date.now): Logger {
  return {
    log(level, msg, fields) {
      const line = JSON.stringify(
        { time: new Date(now()).toISOString(), level, msg, ...fields },
        (_, value) => (typeof value === 'bigint' ? value.toString() : value),
      );
      out.write(`${line}\n`);
    },
  };
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(): Logger & {
  readonly lines: { level: LogLevel; msg: string; fields: Readonly<Record<string, unknown>> }[];
} {
  const lines: { level: LogLevel; msg: string; fields: Readonly<Record<string, unknown>> }[] = [];
  return {
    lines,
    log(level, msg, fields = {}) {
      lines.push({ level, msg, fields });
    },
  };
}
