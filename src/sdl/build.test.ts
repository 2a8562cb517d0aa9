import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sortedEndpoints } from './build.js';
import { goSort } from './go-sort.js';
import type { ResourceEndpoint } from './manifest-types.js';

const endpoint = fc.record({
  kind: fc.constantFrom<1 | 2 | undefined>(undefined, 1, 2),
  sequence_number: fc.nat(4),
});

describe('sortedEndpoints', () => {
  it('is what Go’s sort of the endpoints prints, ties between different endpoints included', () => {
    fc.assert(
      fc.property(fc.array(endpoint, { maxLength: 120 }), (drawn) => {
        const endpoints: ResourceEndpoint[] = drawn.map(({ kind, sequence_number }) =>
          kind === undefined ? { sequence_number } : { kind, sequence_number },
        );
        const go = goSort(endpoints, (a, b) => a.sequence_number < b.sequence_number);
        assert.equal(JSON.stringify(sortedEndpoints(endpoints)), JSON.stringify(go));
      }),
      { numRuns: 500 },
    );
  });
});
