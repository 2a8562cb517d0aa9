/** The tree SDL text becomes: Go-resolved scalars, mappings and sequences, with offsets. */
import { RESOLVED_STR, type Resolved, resolvePlain } from './go-values.js';

/** A YAML scalar with its yaml.v3 resolution and raw text. */
export class YScalar {
  constructor(
    /** The scalar's text as written (Go `Node.Value`). */
    readonly text: string,
    readonly resolved: Resolved,
    /** The short tag Go reports in type errors (`!!str`, `!!int`, …). */
    readonly shortTag: string,
    readonly offset: number,
  ) {}

  get isNull(): boolean {
    return this.resolved.tag === 'null';
  }
}

/** A YAML mapping (keys are the Go string form of the key) or sequence. */
export type YMap = Map<string, YValue>;
export type YValue = YScalar | YMap | readonly YValue[];

/** Where a mapping or sequence starts, and where each of a mapping's keys is. */
export interface ContainerInfo {
  readonly offset: number;
  readonly keyOffsets?: Map<string, number>;
}

const SHORT_TAGS: Readonly<Record<Resolved['tag'], string>> = {
  null: '!!null',
  bool: '!!bool',
  int: '!!int',
  float: '!!float',
  merge: '!!merge',
  str: '!!str',
};

/** An untagged scalar as yaml.v3 resolves it: quoted and block scalars are strings. */
export function scalarNode(text: string, quoted: boolean, offset: number): YScalar {
  if (quoted) return new YScalar(text, RESOLVED_STR, '!!str', offset);
  const resolved = resolvePlain(text);
  return new YScalar(text, resolved, SHORT_TAGS[resolved.tag], offset);
}
