import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sdlFixture } from '../../test/support/sdl-fixtures.js';
import { sha256Hex } from './go-json.js';
import {
  ENDPOINT_KIND,
  formatDiagnostic,
  goJson,
  parseSdl,
  type ResourceEndpoint,
  type Sdl,
  type SdlDiagnostic,
  sortedJson,
  toAppError,
} from './index.js';

const { LEASED_IP, RANDOM_PORT } = ENDPOINT_KIND;

function load(name: string): string {
  return readFileSync(sdlFixture(`${name}.yaml`), 'utf8');
}

function accept(name: string, strict = false): Sdl {
  const result = parseSdl(load(name), { file: name, strict });
  assert.ok(result.ok, result.ok ? '' : result.error.map(formatDiagnostic).join('\n'));
  return result.value;
}

function reject(name: string, strict = false): SdlDiagnostic {
  const result = parseSdl(load(name), { file: name, strict });
  assert.equal(result.ok, false, `${name} was accepted`);
  return result.ok ? (undefined as never) : result.error[0]!;
}

/** 1-based line and column of the first occurrence of `needle` after `after`. */
function positionOf(text: string, needle: string, after = ''): { line: number; col: number } {
  const start = text.indexOf(after);
  const at = text.indexOf(needle, start === -1 ? 0 : start);
  assert.ok(at !== -1, `${needle} not found`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

function assertAt(d: SdlDiagnostic, name: string, needle: string, after = ''): void {
  const { line, col } = positionOf(load(name), needle, after);
  assert.deepEqual({ line: d.line, col: d.col }, { line, col }, `${d.code} ${d.message}`);
}

function unitEndpoints(sdl: Sdl): ResourceEndpoint[][] {
  return sdl.groups.flatMap((g) => g.resources.map((u) => [...u.resource.endpoints]));
}

const http = (sequence_number = 0): ResourceEndpoint => ({ sequence_number });
const port = (): ResourceEndpoint => ({ kind: RANDOM_PORT, sequence_number: 0 });
const ip = (sequence_number: number): ResourceEndpoint => ({ kind: LEASED_IP, sequence_number });

describe('sequence numbers and endpoints where TS and Go differ (research note §4.4)', () => {
  it('a non-global `to` adds "" to the list, shifting every IP up by one', () => {
    const sdl = accept('gaps/empty-string-shift');
    const web = sdl.manifest[0]!.services.find((s) => s.name === 'web')!;
    assert.equal(web.expose[0]!.endpointSequenceNumber, 2);
    assert.deepEqual(unitEndpoints(sdl), [[], [http(), ip(2)]]);
  });

  it('an expose without `to` becomes a non-global manifest expose', () => {
    const sdl = accept('gaps/expose-without-to');
    const exposes = sdl.manifest[0]!.services[0]!.expose;
    assert.deepEqual(
      exposes.map((e) => [e.port, e.global, e.service]),
      [
        [80, true, ''],
        [9000, false, ''],
      ],
    );
    assert.deepEqual(unitEndpoints(sdl), [[http()]]);
  });

  it('v2.0 gives services sharing a profile one unit each; [meow, meow] gives meow = 2', () => {
    const sdl = accept('gaps/v20-shared-profile');
    assert.deepEqual(
      sdl.groups[0]!.resources.map((u) => u.count),
      [3, 1],
    );
    assert.deepEqual(unitEndpoints(sdl), [
      [port(), ip(2)],
      [http(), ip(2)],
    ]);
    assert.deepEqual(
      sdl.manifest[0]!.services.map((s) => [s.name, s.resources.id]),
      [
        ['anotherweb', 1],
        ['web', 2],
      ],
    );
  });

  it('v2.1 merges them into one unit, re-sorted by sequence number only', () => {
    const sdl = accept('gaps/v21-shared-profile');
    assert.equal(sdl.groups[0]!.resources[0]!.count, 4);
    assert.deepEqual(unitEndpoints(sdl), [[port(), http(), ip(2), ip(2)]]);
    assert.deepEqual(
      sdl.manifest[0]!.services.map((s) => s.resources.id),
      [1, 1],
    );
  });

  it('endpoints follow the sorted expose order, not the SDL order', () => {
    const sdl = accept('gaps/out-of-order-ips');
    assert.deepEqual(unitEndpoints(sdl), [[http(), ip(2), port(), ip(1)]]);
  });

  it('80/TCP and 80/UDP on one IP are two ports', () => {
    accept('gaps/udp-and-tcp-same-port');
    accept('gaps/udp-and-tcp-same-port', true);
  });
});

describe('IP port collisions: Go keys by raw `as` and raw `proto`; --strict by effective port and protocol', () => {
  it('different ports without `as` collide in Go mode (key ip-0-)', () => {
    const d = reject('gaps/collision-no-as');
    assert.equal(d.code, 'SDL_ENDPOINT_PORT_IN_USE');
    assert.equal(
      d.message,
      'SDL invalid: IP endpoint "myip" port: 9090 protocol:  specified by service "web" already in use by "api"',
    );
    assert.equal(d.path, 'services.web.expose[0].to[0].ip');
    assertAt(d, 'gaps/collision-no-as', 'myip', 'port: 9090');
    accept('gaps/collision-no-as', true);
  });

  it('tcp and TCP on the same port are missed in Go mode and caught in strict mode', () => {
    accept('gaps/collision-proto-case');
    assert.equal(reject('gaps/collision-proto-case', true).code, 'SDL_ENDPOINT_PORT_IN_USE');
  });

  it('a service with an IP in two placements collides with itself', () => {
    assert.match(
      reject('gaps/collision-two-placements').message,
      /specified by service "web" already in use by "web"$/,
    );
  });

  it('two services on one IP need distinct external ports', () => {
    assert.equal(reject('rules/ip-same-as-two-services').code, 'SDL_ENDPOINT_PORT_IN_USE');
    assert.equal(reject('rules/ip-same-port-twice-in-one-expose').code, 'SDL_ENDPOINT_PORT_IN_USE');
    const shared = accept('rules/ip-shared-distinct-ports');
    assert.deepEqual(unitEndpoints(shared), [
      [port(), ip(2)],
      [http(), ip(2)],
    ]);
  });
});

describe('IP endpoint rules: code, message and position', () => {
  it('endpoint names match ^[a-z][a-z0-9_-]+$', () => {
    const d = reject('rules/endpoint-name-one-letter');
    assert.equal(d.code, 'SDL_ENDPOINT_NAME');
    assert.equal(d.message, 'SDL invalid: endpoint named "a" is not a valid name');
    assertAt(d, 'rules/endpoint-name-one-letter', 'a:', 'endpoints:');
    assert.equal(reject('rules/endpoint-name-leading-dash').code, 'SDL_ENDPOINT_NAME');
    assert.deepEqual(accept('rules/endpoint-name-underscore').endpoints, ['meow72-mem_es']);
  });

  it('an endpoint needs kind: ip', () => {
    assert.equal(reject('rules/endpoint-no-kind').message, 'SDL invalid: endpoint named "myip" has no kind');
    const d = reject('rules/endpoint-unknown-kind');
    assert.equal(d.code, 'SDL_ENDPOINT_KIND');
    assertAt(d, 'rules/endpoint-unknown-kind', 'dns');
  });

  it('`ip` must name a declared endpoint', () => {
    const d = reject('rules/ip-undeclared');
    assert.equal(d.code, 'SDL_ENDPOINT_UNDECLARED');
    assert.equal(d.message, 'SDL invalid: error on service "web" no endpoint named "nope" exists');
    assertAt(d, 'rules/ip-undeclared', 'nope');
  });

  it('`ip` requires global: true', () => {
    const d = reject('rules/ip-global-false');
    assert.equal(d.code, 'SDL_IP_NOT_GLOBAL');
    assert.equal(d.path, 'services.web.expose[0].to[0]');
    assert.equal(
      reject('peer/chain-sdk/testdata/sdl/input/invalid/ip-without-global').code,
      'SDL_IP_NOT_GLOBAL',
    );
  });

  it('a declared endpoint must be used by a deployed service', () => {
    const d = reject('rules/ip-only-undeployed-service');
    assert.equal(d.code, 'SDL_ENDPOINT_UNUSED');
    assert.equal(d.message, 'SDL invalid: endpoint "myip" declared but never used');
    assertAt(d, 'rules/ip-only-undeployed-service', 'myip:');
  });

  it('ip: "" means no IP', () => {
    assert.deepEqual(unitEndpoints(accept('rules/ip-empty-string')), [[http()]]);
  });

  it('one bad reference does not also report its endpoint unused', () => {
    const result = parseSdl(load('rules/ip-global-false'));
    assert.equal(result.ok, false);
    if (!result.ok)
      assert.deepEqual(
        result.error.map((d) => d.code),
        ['SDL_IP_NOT_GLOBAL'],
      );
  });

  it('one misspelt profile reports only itself, not the endpoints its service uses as unused', () => {
    const example = readFileSync(new URL('../../examples/ip-lease.yaml', import.meta.url), 'utf8');
    const misspelt: [string, string, string][] = [
      ['compute profile', '      profile: web\n', '      profile: wbe\n'],
      ['placement', 'deployment:\n  web:\n    dcloud:', 'deployment:\n  web:\n    dclod:'],
      ['pricing', '        web:\n          denom', '        wbe:\n          denom'],
    ];
    for (const [what, from, to] of misspelt) {
      assert.ok(example.includes(from), what);
      const result = parseSdl(example.replace(from, to));
      assert.deepEqual(result.ok ? [] : result.error.map((d) => d.code), ['SDL_PROFILE'], what);
    }
  });
});

describe('decoding as yaml.v3 does', () => {
  it('a quoted number is not a port', () => {
    const d = reject('rules/quoted-port');
    assert.equal(d.code, 'SDL_SCHEMA');
    assert.equal(d.message, 'cannot unmarshal !!str `80` into uint32');
    assert.equal(d.path, 'services.web.expose[0].port');
    assertAt(d, 'rules/quoted-port', '"80"');
  });

  it('global: yes is true', () => {
    assert.deepEqual(unitEndpoints(accept('rules/yaml11-bool')), [[http()]]);
  });

  it('null list items are dropped; an all-null list stays an empty list', () => {
    const svc = accept('rules/null-list-items').manifest[0]!.services[0]!;
    assert.deepEqual(svc.command, ['sh', '-c']);
    assert.deepEqual(svc.args, []);
    assert.equal(svc.env, null);
  });

  it('anchors, aliases and merge keys are followed', () => {
    const sdl = accept('rules/anchors-and-merge');
    const api = sdl.manifest[0]!.services.find((s) => s.name === 'api')!;
    assert.equal(api.image, 'httpd');
    assert.equal(api.expose[0]!.port, 80);
    assert.equal(sdl.groups[0]!.resources.length, 2);
  });

  it('any version >= 2.1 reads as 2.1; 2.0.1 and 1.0 are unsupported', () => {
    assert.equal(accept('rules/version-future').dialect, '2.1');
    assert.equal(reject('rules/version-patch').message, 'SDL invalid: config: unsupported version "2.0.1"');
    assert.equal(reject('rules/version-unsupported').code, 'SDL_VERSION');
  });
});

describe('manifest details', () => {
  it('an empty attribute value is omitted from the JSON, as Go omits empty strings', () => {
    const group = JSON.parse(goJson(accept('rules/placement-attribute-empty-value').groups))[0];
    assert.deepEqual(group.requirements, {
      signed_by: { all_of: null, any_of: ['akash1xyz'] },
      attributes: [{ key: 'region', value: 'us-west' }, { key: 'tier' }],
    });
  });

  it('goJson writes what Go writes where JSON.stringify would differ', () => {
    const attributes = [{ key: 'tier', value: '' }];
    assert.equal(goJson({ attributes }), '{"attributes":[{"key":"tier"}]}');
    assert.equal(
      goJson({ attributes }, '  '),
      '{\n  "attributes": [\n    {\n      "key": "tier"\n    }\n  ]\n}',
    );
    assert.equal(
      goJson(['a<b>&c\u2028\u2029', 'x\ud800y']),
      '["a\\u003cb\\u003e\\u0026c\\u2028\\u2029","x\\ufffdy"]',
    );
    assert.equal(
      goJson({ a: [1, true, null], b: 'tab\there', c: {} }, '  '),
      JSON.stringify({ a: [1, true, null], b: 'tab\there', c: {} }, null, '  '),
    );
    assert.equal(goJson({ a: 1 }, '            '), '{\n            "a": 1\n}');
  });

  it('v2.0 drops the credentials email and keeps spaces; v2.1 keeps it and trims', () => {
    assert.deepEqual(accept('rules/credentials-v20').manifest[0]!.services[0]!.credentials, {
      host: ' ghcr.io ',
      email: '',
      username: 'me',
      password: 'secret1',
    });
    assert.deepEqual(accept('rules/credentials-v21').manifest[0]!.services[0]!.credentials, {
      host: 'ghcr.io',
      email: 'me@example.com',
      username: 'me',
      password: 'secret1',
    });
  });

  it('http_options: a set proxy_buffer_size appears, zeros take defaults', () => {
    const options = accept('rules/http-proxy-buffer-size').manifest[0]!.services[0]!.expose[0]!.httpOptions;
    assert.deepEqual(options, {
      maxBodySize: 1048576,
      readTimeout: 60000,
      sendTimeout: 60000,
      nextTries: 5,
      nextTimeout: 0,
      nextCases: ['error', 'timeout'],
      proxyBufferSize: 4096,
    });
  });

  it('GPU model, RAM and interface form sorted attribute keys', () => {
    const gpu = accept('rules/gpu-model-ram-interface').groups[0]!.resources[0]!.resource.gpu;
    assert.deepEqual(gpu, {
      units: { val: '1' },
      attributes: [
        { key: 'vendor/nvidia/model/a100/ram/80Gi/interface/sxm', value: 'true' },
        { key: 'vendor/nvidia/model/h100', value: 'true' },
      ],
    });
  });

  it('v2.0 checks persistent volumes without params; v2.1 does not', () => {
    assert.equal(reject('rules/v20-persistent-without-params').code, 'SDL_STORAGE');
    accept('rules/v21-persistent-without-params');
  });

  it('the manifest, group specs and SDL are frozen', () => {
    const sdl = accept('rules/ip-shared-distinct-ports');
    assert.ok(Object.isFrozen(sdl) && Object.isFrozen(sdl.manifest[0]!.services[0]!.expose[0]));
  });
});

describe('diagnostics', () => {
  it('print as FILE:LINE:COL: CODE: message, warnings marked', () => {
    const d = reject('rules/ip-undeclared');
    assert.match(
      formatDiagnostic(d),
      /^rules\/ip-undeclared:11:17: SDL_ENDPOINT_UNDECLARED: SDL invalid: error on service/,
    );
    assert.equal(
      formatDiagnostic({ ...d, severity: 'warning' }),
      `rules/ip-undeclared:11:17: warning: SDL_ENDPOINT_UNDECLARED: ${d.message}`,
    );
  });

  it('quote at most a short head of an overlong value, however long the SDL’s value is', () => {
    const huge = 'x'.repeat(500_000);
    const text = load('rules/ip-undeclared');
    const result = parseSdl(
      text.replace(/ip: [a-z0-9-]+/, `ip: ${huge}`).replace(/denom: uakt/, `denom: ${huge}`),
    );
    assert.equal(result.ok, false);
    const messages = result.ok ? [] : result.error.map((d) => d.message);
    assert.ok(messages.length > 0);
    for (const message of messages) {
      assert.ok(message.length < 400, `${message.length} characters: ${message.slice(0, 120)}`);
      if (message.includes('xxx')) assert.match(message, /x… \(500000 characters\)/);
    }
    assert.ok(messages.some((message) => message.includes('xxx')));
  });

  it('a schema type mismatch says which type the field wants (not that it is missing)', () => {
    const text = readFileSync(new URL('../../examples/ip-lease.yaml', import.meta.url), 'utf8').replace(
      '        ip-lease: true\n',
      '        ip-lease: true\n      signedBy:\n        anyOf: [1]\n',
    );
    const result = parseSdl(text);
    assert.ok(result.ok);
    assert.deepEqual(
      result.warnings.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`),
      ['34:17 SDL_SCHEMA schema: must be a string (profiles.placement.dcloud.signedBy.anyOf.0)'],
    );
  });

  it('fold into one AppError with the first code', () => {
    const result = parseSdl(load('rules/ip-undeclared'));
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(toAppError(result.error).code, 'SDL_ENDPOINT_UNDECLARED');
  });
});

describe('manifest version', () => {
  it('is the same with the portable SHA-256 as with the native one', () => {
    const sdl = accept('rules/gpu-model-ram-interface');
    assert.equal(sha256Hex(sortedJson(sdl.manifest)), sdl.manifestVersion);
  });
});

describe('Go test assertions on the IP fixtures (peer fixtures README §1.5)', () => {
  const KIND = ['SHARED_HTTP', 'RANDOM_PORT', 'LEASED_IP'];
  /** group → [count, endpoints] per unit, and every IP expose as name=seq. */
  const summary = (sdl: Sdl) => ({
    units: sdl.groups.map((g) => [
      g.name,
      g.resources.map((u) => [
        u.count,
        u.resource.endpoints.map((e) => `${KIND[e.kind ?? 0]}/${e.sequence_number}`).join(' '),
      ]),
    ]),
    ips: sdl.manifest.flatMap((g) =>
      g.services.flatMap((s) =>
        s.expose.filter((e) => e.ip).map((e) => `${e.ip}=${e.endpointSequenceNumber}`),
      ),
    ),
  });
  const rows: [string, unknown, string[]][] = [
    ['simple-with-ip', [['westcoast', [[2, 'SHARED_HTTP/0 RANDOM_PORT/0 LEASED_IP/1']]]], ['meow=1']],
    ['v2.1-simple-with-ip', [['westcoast', [[2, 'SHARED_HTTP/0 RANDOM_PORT/0 LEASED_IP/1']]]], ['meow=1']],
    ['legacy/deployment-v2-ip-endpoint', [['global', [[1, 'SHARED_HTTP/0 LEASED_IP/1']]]], ['meow=1']],
    ['legacy/deployment-v2.1-ip-endpoint', [['global', [[1, 'SHARED_HTTP/0 LEASED_IP/1']]]], ['meow=1']],
    [
      'legacy/deployment-v2-shared-ip-endpoint',
      [
        [
          'global',
          [
            [3, 'RANDOM_PORT/0 LEASED_IP/2'],
            [1, 'SHARED_HTTP/0 LEASED_IP/2'],
          ],
        ],
      ],
      ['meow=2', 'meow=2'],
    ],
    [
      'legacy/deployment-v2.1-shared-ip-endpoint',
      [['global', [[4, 'RANDOM_PORT/0 SHARED_HTTP/0 LEASED_IP/2 LEASED_IP/2']]]],
      ['meow=2', 'meow=2'],
    ],
    [
      'legacy/deployment-v2-multi-ip-endpoint',
      [
        [
          'global',
          [
            [3, 'SHARED_HTTP/0 LEASED_IP/1'],
            [1, 'SHARED_HTTP/0 LEASED_IP/2'],
          ],
        ],
      ],
      ['kittens=1', 'meow=2'],
    ],
    [
      'legacy/deployment-v2.1-multi-ip-endpoint',
      [['global', [[4, 'SHARED_HTTP/0 SHARED_HTTP/0 LEASED_IP/1 LEASED_IP/2']]]],
      ['kittens=1', 'meow=2'],
    ],
    [
      'legacy/deployment-v2-multi-groups-ip-endpoint',
      [
        ['bob', [[3, 'SHARED_HTTP/0 LEASED_IP/1']]],
        ['global', [[1, 'SHARED_HTTP/0 LEASED_IP/2']]],
      ],
      ['kittens=1', 'meow=2'],
    ],
    [
      'legacy/deployment-v2.1-multi-groups-ip-endpoint',
      [
        ['bob', [[3, 'SHARED_HTTP/0 LEASED_IP/1']]],
        ['global', [[1, 'SHARED_HTTP/0 LEASED_IP/2']]],
      ],
      ['kittens=1', 'meow=2'],
    ],
  ];
  for (const [name, units, ips] of rows) {
    it(name, () => {
      assert.deepEqual(summary(accept(`peer/chain-sdk/go/sdl/_testdata/${name}`)), { units, ips });
    });
  }
});
