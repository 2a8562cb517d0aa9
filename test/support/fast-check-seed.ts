// Loaded before every test file. CI runs property tests on a fixed seed so that a landing is never
// decided by chance; elsewhere each run draws a new seed and keeps hunting. FC_SEED replays a failure
// (fast-check prints the seed with every counterexample).
import fc from 'fast-check';

const fixed = process.env.FC_SEED ?? (process.env.CI ? '20261124' : undefined);
if (fixed !== undefined) fc.configureGlobal({ seed: Number(fixed) });
