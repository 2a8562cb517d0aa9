/**
 * SDL engine: parse + validate + manifest + group specs + version hash, and the JSON the CLI
 * prints, for the hello-world example and for a generated 200-service SDL with 50 IP endpoints.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { goJson, parseSdl } from '../src/sdl/index.js';
import { median, quantile, type Suite, timeRuns } from './harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** 200 services over 5 shared profiles (v2.1 merges them into 5 units); 50 endpoints, 4 services each. */
export function generatedSdl(services = 200, endpoints = 50): string {
  const names = Array.from({ length: services }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
  const ips = Array.from({ length: endpoints }, (_, i) => `ip-${String(i).padStart(2, '0')}`);
  const profiles = ['p0', 'p1', 'p2', 'p3', 'p4'];
  return stringify({
    version: '2.1',
    endpoints: Object.fromEntries(ips.map((ip) => [ip, { kind: 'ip' }])),
    services: Object.fromEntries(
      names.map((name, i) => [
        name,
        {
          image: `registry.example.com/app-${i}:1.0`,
          env: [`INDEX=${i}`, 'MODE=bench'],
          expose: [
            {
              port: 8080,
              as: 10000 + i,
              to: [{ global: true, ip: ips[i % endpoints] }, { service: names[(i + 1) % services] }],
            },
            { port: 9090, to: [{ service: names[(i + 2) % services] }] },
          ],
        },
      ]),
    ),
    profiles: {
      compute: Object.fromEntries(
        profiles.map((p, i) => [
          p,
          {
            resources: { cpu: { units: `${100 + i}m` }, memory: { size: '256Mi' }, storage: { size: '1Gi' } },
          },
        ]),
      ),
      placement: {
        dcloud: {
          attributes: { region: 'us-west', 'ip-lease': true },
          pricing: Object.fromEntries(profiles.map((p) => [p, { denom: 'uakt', amount: 100 }])),
        },
      },
    },
    deployment: Object.fromEntries(
      names.map((name, i) => [name, { dcloud: { profile: profiles[i % profiles.length], count: 1 } }]),
    ),
  });
}

function compile(text: string): number {
  const result = parseSdl(text);
  if (!result.ok) throw new Error(result.error.map((d) => d.message).join('\n'));
  return goJson(result.value.manifest, '  ').length + goJson(result.value.groups, '  ').length;
}

const suite: Suite = async (report) => {
  const cases: [string, string, number][] = [
    ['hello-world (examples/ip-lease.yaml)', readFileSync(join(ROOT, 'examples/ip-lease.yaml'), 'utf8'), 400],
    ['200 services, 50 IP endpoints', generatedSdl(), 60],
  ];
  for (const [name, text, runs] of cases) {
    await timeRuns(Math.ceil(runs / 4), () => compile(text));
    const times = await timeRuns(runs, () => compile(text));
    report({ name: `${name}: median`, value: median(times), unit: 'ms' });
    report({ name: `${name}: p99`, value: quantile(times, 0.99), unit: 'ms' });
  }
};

export default suite;
