/**
 * The SDL engine: Akash SDL v2.0/v2.1 → validated SDL, manifest, deployment group specs and
 * manifest version, byte-compatible with the Go reference (chain-sdk `go/sdl`).
 */
export {
  formatDiagnostic,
  formatPath,
  type SdlDiagnostic,
  type Severity,
  toAppError,
} from './diagnostics.js';
export { goJson, goJsonString, manifestVersion, sortedJson } from './go-json.js';
export * from './manifest-types.js';
export type { SdlDialect } from './model.js';
export { type ParseOptions, parseSdl, type Sdl, type SdlResult } from './sdl.js';
export { MAX_SDL_BYTES } from './yaml-tree.js';

import type { GroupSpec, Manifest } from './manifest-types.js';
import type { Sdl } from './sdl.js';

/** The manifest (one group per placement) of a parsed SDL. */
export function buildManifest(sdl: Sdl): Manifest {
  return sdl.manifest;
}

/** The deployment group specs of a parsed SDL, as sent on chain. */
export function buildGroupSpecs(sdl: Sdl): readonly GroupSpec[] {
  return sdl.groups;
}
