/**
 * The rules of chain-sdk's SDL input JSON schema, written by hand. Go runs that schema but only
 * logs a failure, so by default these are warnings; `--strict` turns them into errors.
 * The schema sees the YAML as yaml.v3 decodes it into `any` (ints, floats, bools, nulls, strings).
 *
 * The rules are built from a handful of small combinators below (an object with no other keys, a
 * record, a list, a union, type checks and refinements) instead of a schema library: the CLI reads
 * one SDL per process, so loading and building a library's schemas cost more than the check itself.
 * Their reporting follows one model: a type mismatch stops a rule's further checks (but for a
 * length check, which still runs on anything with a length, unless the mismatch was a number's
 * integer check); a failed refinement or an unknown key does not; a union reports the one option
 * that got past its type checks, or its own message when none or several did.
 */
import { type Problem, problem } from './diagnostics.js';
import { YScalar, type YValue } from './yaml-value.js';

/**
 * The JSON value yaml.v3 + encoding/json would hand to the schema validator.
 * (Here and below, hot loops avoid `for…of` with destructuring: a CLI run executes this code once, cold, where
 * each iteration step and destructured pair costs an allocation.)
 */
function toPlain(value: YValue): unknown {
  if (value instanceof YScalar) {
    const r = value.resolved;
    if (r.tag === 'null') return null;
    if (r.tag === 'bool') return r.value;
    if (r.tag === 'int') return Number(r.value);
    if (r.tag === 'float') return r.value;
    return value.text;
  }
  if (value instanceof Map) {
    // Null prototype: a key named __proto__ stays an ordinary key.
    const out: Record<string, unknown> = Object.create(null);
    value.forEach((v, k) => {
      out[k] = toPlain(v);
    });
    return out;
  }
  return value.map(toPlain);
}

/** Where a value sits: a chain up to the root (null), turned into an array only when an issue is reported. */
type Path = { readonly up: Path; readonly key: string | number } | null;

const at = (up: Path, key: string | number): Path => ({ up, key });

function segments(path: Path): (string | number)[] {
  const out: (string | number)[] = [];
  for (let node = path; node !== null; node = node.up) out.push(node.key);
  return out.reverse();
}

/** One broken rule, at the path of the value that breaks it. */
interface Issue {
  readonly message: string;
  readonly path: Path;
  /** Which of the rule's further checks it stops: none (absent), all but length checks, or all. */
  readonly stops?: 'checks' | 'all';
  /** Keys an object does not allow: one problem each, at the key. */
  readonly unknownKeys?: readonly string[];
  /** A record key that breaks the key rule: reported at the key. */
  readonly atKey?: boolean;
}

/** Checks a value, appending what it breaks to `issues`. */
interface Rule {
  readonly run: (input: unknown, path: Path, issues: Issue[]) => void;
  /** An object may leave this field out. */
  readonly optional?: boolean;
}

/** A refinement of a value that has the rule's type (or, for a length check, any value with a length). */
interface Check {
  readonly run: (input: never, path: Path, issues: Issue[]) => void;
  readonly lengthCheck?: boolean;
}

/** Whether an issue from `from` on stops the checks of this kind. */
function stopped(issues: readonly Issue[], from: number, lengthCheck: boolean): boolean {
  for (let i = from; i < issues.length; i++) {
    const stops = issues[i]!.stops;
    if (stops === 'all' || (stops === 'checks' && !lengthCheck)) return true;
  }
  return false;
}

const hasLength = (v: unknown): boolean =>
  v !== null && v !== undefined && (v as { length?: unknown }).length !== undefined;

/** `base`, then each check in turn while nothing so far stopped it. */
function rule(base: Rule['run'], ...checks: Check[]): Rule {
  if (checks.length === 0) return { run: base };
  return {
    run: (input, path, issues) => {
      const from = issues.length;
      base(input, path, issues);
      for (let i = 0; i < checks.length; i++) {
        const check = checks[i]!;
        const lengthCheck = check.lengthCheck === true;
        if (stopped(issues, from, lengthCheck) || (lengthCheck && !hasLength(input))) continue;
        (check.run as (input: unknown, path: Path, issues: Issue[]) => void)(input, path, issues);
      }
    },
  };
}

function typeIssue(input: unknown, path: Path, expected: string, message?: string): Issue {
  const text = input === undefined ? 'required field is missing' : (message ?? `must be ${expected}`);
  return { message: text, path, stops: 'checks' };
}

/** A value of a JSON type, then its checks. */
function typed(expected: string, is: (input: unknown) => boolean) {
  return (message?: string, ...checks: Check[]): Rule =>
    rule(
      (input, path, issues) => {
        if (!is(input)) issues.push(typeIssue(input, path, expected, message));
      },
      ...checks,
    );
}

const string = typed('string', (v) => typeof v === 'string');
const number = typed('number', (v) => typeof v === 'number' && Number.isFinite(v));
const boolean = typed('boolean', (v) => typeof v === 'boolean');
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function failed(path: Path, message: string): Issue {
  return { message, path };
}

/** A refinement: `test` must hold, else `message` (the rule's further checks still run). */
function refine<T>(test: (input: T) => boolean, message = 'Invalid input'): Check {
  return {
    run: (input: T, path, issues) => {
      if (!test(input)) issues.push(failed(path, message));
    },
  };
}

/** A whole number in the safe range; a fraction stops every further check. */
function int(message?: string): Check {
  return {
    run: (input: number, path, issues) => {
      if (!Number.isInteger(input)) issues.push({ ...typeIssue(input, path, 'int', message), stops: 'all' });
      else if (input > Number.MAX_SAFE_INTEGER)
        issues.push(failed(path, message ?? `Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`));
      else if (input < Number.MIN_SAFE_INTEGER)
        issues.push(failed(path, message ?? `Too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`));
    },
  };
}

const atLeast = (minimum: number, message?: string): Check =>
  refine((n: number) => n >= minimum, message ?? `Too small: expected number to be >=${minimum}`);
const above = (minimum: number): Check =>
  refine((n: number) => n > minimum, `Too small: expected number to be >${minimum}`);
const atMost = (maximum: number, message?: string): Check =>
  refine((n: number) => n <= maximum, message ?? `Too big: expected number to be <=${maximum}`);
/** At least `minimum` characters (code points), checked on anything with a length. */
function minLength(minimum: number, message?: string): Check {
  const UNITS: Readonly<Record<string, string>> = { string: 'characters', array: 'items' };
  return {
    lengthCheck: true,
    run: (input: string | readonly unknown[], path, issues) => {
      // A string has at least half as many code points as UTF-16 units: most pass without being counted.
      if (input.length >= 2 * minimum) return;
      const length = typeof input === 'string' ? [...input].length : input.length;
      if (length >= minimum) return;
      const kind = typeof input === 'string' ? 'string' : Array.isArray(input) ? 'array' : 'unknown';
      const unit = UNITS[kind];
      const wanted = unit === undefined ? `be >=${minimum}` : `have >=${minimum} ${unit}`;
      issues.push(failed(path, message ?? `Too small: expected ${kind} to ${wanted}`));
    },
  };
}
const matches = (pattern: RegExp, message?: string): Check =>
  refine((s: string) => pattern.test(s), message ?? `Invalid string: must match pattern ${pattern}`);

/** One of a fixed set of values. */
function oneOfValues(values: readonly unknown[], message: string): Rule {
  return rule((input, path, issues) => {
    if (!values.includes(input)) issues.push({ message, path, stops: 'checks' });
  });
}

/** A value that is absent, or else follows `inner`. */
function optional(inner: Rule): Rule {
  return {
    run: (input, path, issues) => input !== undefined && inner.run(input, path, issues),
    optional: true,
  };
}

function nullable(inner: Rule): Rule {
  return { ...inner, run: (input, path, issues) => input !== null && inner.run(input, path, issues) };
}

/** An object with exactly these fields (the optional ones may be left out), then its checks. */
function object(shape: Readonly<Record<string, Rule>>, ...checks: Check[]): Rule {
  const fields = Object.entries(shape);
  /** What the object's checks see: its known fields only. */
  const known = (input: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) {
      const key = fields[i]![0];
      if (key in input) out[key] = input[key];
    }
    return out;
  };
  return rule(
    (input, path, issues) => {
      if (!isObject(input)) {
        issues.push(typeIssue(input, path, 'object'));
        return;
      }
      for (let i = 0; i < fields.length; i++) {
        const key = fields[i]![0];
        const field = fields[i]![1];
        if (!(key in input) && field.optional) continue;
        field.run(input[key], at(path, key), issues);
      }
      // Unknown keys fail the object but do not stop its checks.
      const keys = Object.keys(input);
      let unknownKeys: string[] | undefined;
      for (let i = 0; i < keys.length; i++) {
        if (Object.hasOwn(shape, keys[i]!)) continue;
        unknownKeys ??= [];
        unknownKeys.push(keys[i]!);
      }
      if (unknownKeys !== undefined) issues.push({ message: '', path, unknownKeys });
    },
    ...checks.map((c) =>
      check((input: Record<string, unknown>, path, issues) => c.run(known(input) as never, path, issues)),
    ),
  );
}

/** A mapping from keys that follow `key` (when given) to values that follow `value`. */
function record(value: Rule, key?: Rule): Rule {
  return rule((input, path, issues) => {
    if (!isObject(input)) {
      issues.push(typeIssue(input, path, 'record'));
      return;
    }
    const names = Object.keys(input);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      // An own `__proto__` entry is not checked, as JSON-schema validators built on plain objects skip it.
      if (name === '__proto__') continue;
      const keyIssues: Issue[] = [];
      key?.run(name, null, keyIssues);
      if (keyIssues.length > 0) {
        const message = keyIssues[0]!.message;
        issues.push({ message, path: at(path, name), stops: 'checks', atKey: true });
        continue;
      }
      value.run(input[name], at(path, name), issues);
    }
  });
}

function list(item: Rule, message?: string, ...checks: Check[]): Rule {
  return rule(
    (input, path, issues) => {
      if (!Array.isArray(input)) {
        issues.push(typeIssue(input, path, 'array', message));
        return;
      }
      for (let index = 0; index < input.length; index++) item.run(input[index], at(path, index), issues);
    },
    ...checks,
  );
}

/**
 * The first option the value satisfies. Otherwise: when exactly one option got past its type
 * checks (only refinements failed), that option's issues, as the nearest match; else `message`.
 */
function union(message: string, ...options: Rule[]): Rule {
  return rule((input, path, issues) => {
    const outcomes = options.map((option) => {
      const found: Issue[] = [];
      option.run(input, path, found);
      return found;
    });
    if (outcomes.some((found) => found.length === 0)) return;
    const nearest = outcomes.filter((found) => found.every((issue) => issue.stops === undefined));
    if (nearest.length === 1) issues.push(...nearest[0]!);
    else issues.push({ message, path, stops: 'checks' });
  });
}

/** A check that reports its own issues (at paths of its choosing). */
function check<T>(run: (input: T, path: Path, issues: Issue[]) => void): Check {
  return { run };
}

const anyObject = rule(() => {}, refine(isObject, 'must be an object'));

const portNumber = number(
  'must be an integer',
  int('must be an integer'),
  atLeast(1, 'must be at least 1'),
  atMost(65535, 'must be at most 65535'),
);
const stringList = list(string('must be a string'), 'must be a list of strings');
const stringArrayOrNull = nullable(stringList);
const httpErrorCode = oneOfValues(
  ['error', 'timeout', '500', '502', '503', '504', '403', '404', '429', 'off'],
  'must be one of: error, timeout, 500, 502, 503, 504, 403, 404, 429, off',
);

const priceCoin = object({
  amount: union(
    'must be a non-negative number or a decimal string',
    string(undefined, matches(/^[0-9]+(\.[0-9]+)?$/)),
    number(undefined, atLeast(0)),
  ),
  denom: oneOfValues(['uakt', 'uact'], 'must be one of: uakt, uact'),
});

const truthy = (v: unknown): boolean => v === true || v === 'true';

const storageAttributes = object(
  {
    class: string('must be a string'),
    persistent: union('must be a boolean or a string', boolean(), string()),
  },
  check((a: { class: string; persistent: unknown }, path, issues) => {
    if (a.class === 'ram' && truthy(a.persistent)) {
      issues.push(failed(at(path, 'persistent'), 'ram storage must not be persistent'));
    }
    if (['beta1', 'beta2', 'beta3', 'default'].includes(a.class) && !truthy(a.persistent)) {
      issues.push(failed(at(path, 'persistent'), `storage class "${a.class}" requires persistent: true`));
    }
  }),
);

const storageVolume = object({
  attributes: optional(storageAttributes),
  name: optional(string('must be a string')),
  size: string('must be a string such as "1Gi"'),
});

const positiveUnits = (v: unknown): boolean =>
  typeof v === 'number' ? v > 0 : typeof v === 'string' && !/^0+(\.0+)?$/.test(v);

const gpu = object(
  {
    attributes: optional(
      object({
        vendor: optional(
          object(
            {
              nvidia: optional(
                nullable(
                  list(
                    object({
                      interface: optional(oneOfValues(['pcie', 'sxm'], 'must be one of: pcie, sxm')),
                      model: optional(string('must be a string')),
                      ram: optional(string('must be a string such as "80Gi"')),
                    }),
                  ),
                ),
              ),
            },
            refine((v: object) => Object.keys(v).length >= 1, 'must name a vendor (only nvidia is known)'),
          ),
        ),
      }),
    ),
    units: optional(union('must be a number or a string', string(), number())),
  },
  check((g: { attributes?: unknown; units?: unknown }, path, issues) => {
    if (g.units !== undefined && positiveUnits(g.units) && g.attributes === undefined) {
      issues.push(failed(at(path, 'units'), 'gpu units > 0 require attributes'));
    }
    if (g.attributes !== undefined && (g.units === undefined || !positiveUnits(g.units))) {
      issues.push(failed(at(path, 'attributes'), 'gpu attributes require units > 0'));
    }
  }),
);

const cpuUnits = union(
  'must be a positive number or a string such as "100m" or "0.5"',
  string(
    undefined,
    matches(/^[0-9]+(\.[0-9]+)?[a-zA-Z]*$/),
    refine((v: string) => !/^0+(\.0+)?m?$/.test(v)),
  ),
  number(undefined, above(0)),
);

const computeProfile = object({
  resources: object({
    cpu: object({ attributes: optional(anyObject), units: cpuUnits }),
    gpu: optional(gpu),
    memory: object({ size: string('must be a string such as "512Mi"') }),
    storage: union('must be a storage volume or a list of them', storageVolume, list(storageVolume)),
  }),
});

const placementProfile = object({
  attributes: optional(anyObject),
  pricing: record(priceCoin),
  signedBy: optional(object({ allOf: optional(stringList), anyOf: optional(stringList) })),
});

/** A whole number from 0 up to `maximum`. */
const count = (maximum?: number): Rule =>
  optional(number(undefined, int(), atLeast(0), ...(maximum === undefined ? [] : [atMost(maximum)])));

const httpOptions = object({
  max_body_size: count(104857600),
  next_cases: optional(
    list(
      httpErrorCode,
      undefined,
      refine(
        (cases: string[]) => !cases.includes('off') || cases.length === 1,
        '"off" must be the only next case',
      ),
    ),
  ),
  next_timeout: count(),
  next_tries: count(),
  proxy_buffer_size: count(1048576),
  read_timeout: count(60000),
  send_timeout: count(60000),
});

const exposeTo = object(
  {
    global: optional(boolean('must be true or false')),
    ip: optional(string('must be a string', minLength(1, 'must not be empty'))),
    service: optional(string('must be a string')),
  },
  check((to: { global?: unknown; ip?: unknown }, path, issues) => {
    if (typeof to.ip === 'string' && to.ip.length > 0 && to.global !== true) {
      issues.push(
        failed(at(path, 'global'), 'if an IP is declared, the directive must be declared as global'),
      );
    }
  }),
);

const expose = object({
  accept: optional(stringList),
  as: optional(portNumber),
  http_options: optional(httpOptions),
  port: portNumber,
  proto: optional(oneOfValues(['TCP', 'UDP', 'tcp', 'udp'], 'must be one of: TCP, UDP, tcp, udp')),
  to: optional(list(exposeTo)),
});

const service = object({
  args: optional(stringArrayOrNull),
  command: optional(stringArrayOrNull),
  credentials: optional(
    object({
      email: optional(string(undefined, minLength(5, 'must be at least 5 characters'))),
      host: string('must be a string', minLength(1, 'must not be empty')),
      password: string('must be a string', minLength(6, 'must be at least 6 characters')),
      username: string('must be a string', minLength(1, 'must not be empty')),
    }),
  ),
  dependencies: optional(list(object({ service: optional(string()) }))),
  env: optional(stringArrayOrNull),
  expose: optional(nullable(list(expose))),
  image: string('must be a string', minLength(1, 'must not be empty')),
  params: optional(
    object({
      storage: optional(
        record(
          object({
            mount: optional(string(undefined, minLength(1), matches(/^\//, 'must be an absolute path'))),
            readOnly: optional(boolean('must be true or false')),
          }),
        ),
      ),
      permissions: optional(
        object({
          read: optional(
            list(oneOfValues(['deployment', 'logs', 'events'], 'must be one of: deployment, logs, events')),
          ),
        }),
      ),
      tee: optional(oneOfValues(['cpu', 'cpu-gpu'], 'must be one of: cpu, cpu-gpu')),
    }),
  ),
});

const sdlSchema = object({
  deployment: record(
    record(
      object({
        count: number('must be an integer', int('must be an integer'), atLeast(1, 'must be at least 1')),
        profile: string('must be a string'),
      }),
    ),
  ),
  endpoints: optional(
    record(
      object({ kind: oneOfValues(['ip'], 'must be one of: ip') }),
      string(undefined, matches(/^[a-z]+[-_0-9a-z]+$/, 'endpoint names must match ^[a-z]+[-_0-9a-z]+$')),
    ),
  ),
  include: optional(stringList),
  profiles: object({
    compute: record(computeProfile),
    placement: record(placementProfile),
  }),
  reclamation: optional(
    object({
      min_window: string(
        'must be a string',
        matches(/^[1-9][0-9]*(s|m|h)$/, 'must be a whole number followed by s, m, or h (e.g. "24h")'),
      ),
    }),
  ),
  services: record(service),
  version: oneOfValues(['2.0', '2.1'], 'must be the string "2.0" or "2.1"'),
});

/** Every schema rule the SDL breaks, as problems under code SDL_SCHEMA. */
export function schemaProblems(root: YValue): Problem[] {
  const issues: Issue[] = [];
  sdlSchema.run(toPlain(root), null, issues);
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = segments(issue.path);
    if (issue.unknownKeys !== undefined) {
      for (const key of issue.unknownKeys) {
        const message = `schema: additional property ${JSON.stringify(key)} is not allowed`;
        out.push(problem('SDL_SCHEMA', message, [...path, key], true));
      }
      continue;
    }
    const where = path.length === 0 ? '' : ` (${path.join('.')})`;
    out.push(problem('SDL_SCHEMA', `schema: ${issue.message}${where}`, path, issue.atKey ?? false));
  }
  return out;
}
