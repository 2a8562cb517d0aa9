// SDL test files: names under `peer/` are the peer fixtures in ../shared (beside the repository, where
// CI puts it too), read in place rather than copied in; every other name is our own, in src/sdl/testdata.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The peer fixtures folder (`../shared/peer-fixtures/sdl`). */
export const PEER_FIXTURES = join(ROOT, '../shared/peer-fixtures/sdl');

/** Our own SDL test data. */
export const SDL_TESTDATA = join(ROOT, 'src/sdl/testdata');

/** The path of a test file named as in `go-results.json` (`peer/…` or a path under src/sdl/testdata). */
export function sdlFixture(name: string): string {
  return name.startsWith('peer/')
    ? join(PEER_FIXTURES, name.slice('peer/'.length))
    : join(SDL_TESTDATA, name);
}

/** Every YAML file below `dir`. */
export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}
