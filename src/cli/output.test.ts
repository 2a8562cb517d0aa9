import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import picocolors from 'picocolors';
import { parse } from 'yaml';
import { appError, EXIT } from '../errors/index.js';
import {
  colorEnabled,
  emit,
  printError,
  progressOn,
  renderTable,
  shortAddress,
  toJson,
  toYaml,
} from './output.js';
import { sink } from './testing.js';

const plain = picocolors.createColors(false);

function io() {
  const stdout = sink();
  const stderr = sink();
  return { io: { stdout: stdout.stream, stderr: stderr.stream, stdin: process.stdin }, stdout, stderr };
}

describe('renderTable', () => {
  const rows = [
    { name: 'provider-1', free: 8 },
    { name: 'p2', free: 0 },
  ];
  const columns = [
    { header: 'PROVIDER', value: (row: (typeof rows)[number]) => row.name },
    { header: 'FREE', value: (row: (typeof rows)[number]) => String(row.free) },
  ];

  it('aligns columns without borders or trailing spaces', () => {
    assert.equal(renderTable(rows, columns, plain), 'PROVIDER    FREE\nprovider-1  8\np2          0\n');
  });

  it('prints only the header for no rows', () => {
    assert.equal(renderTable([], columns, plain), 'PROVIDER  FREE\n');
  });
});

describe('data formats', () => {
  const data = { capacity: 2n ** 64n, name: 'web', ports: [80, 443], none: null };

  it('writes bigints as numbers with every digit in JSON', () => {
    assert.equal(
      toJson(data),
      '{\n  "capacity": 18446744073709551616,\n  "name": "web",\n  "ports": [\n    80,\n    443\n  ],\n  "none": null\n}\n',
    );
    assert.equal(
      toJson({ small: 3n, text: '3', negative: -1n }).replace(/\s/g, ''),
      '{"small":3,"text":"3","negative":-1}',
    );
  });

  it('writes the same data as YAML, bigints as integers', () => {
    assert.equal(
      toYaml(data),
      'capacity: 18446744073709551616\nname: web\nports:\n  - 80\n  - 443\nnone: null\n',
    );
    assert.deepEqual(parse(toYaml({ ...data, capacity: 7n })), JSON.parse(toJson({ ...data, capacity: 7n })));
  });

  it('emits the format asked for, human text only for table', () => {
    const report = { data: { a: 1 }, human: () => 'human view\n' };
    for (const [format, expected] of [
      ['json', '{\n  "a": 1\n}\n'],
      ['yaml', 'a: 1\n'],
      ['table', 'human view\n'],
    ] as const) {
      const run = io();
      emit(run.io, format, report);
      assert.equal(run.stdout.text(), expected);
      assert.equal(run.stderr.text(), '');
    }
  });
});

describe('colour', () => {
  it('follows FORCE_COLOR, then NO_COLOR, then whether the stream is a terminal', () => {
    const tty = sink(true).stream;
    const pipe = sink(false).stream;
    assert.equal(colorEnabled(tty, {}), true);
    assert.equal(colorEnabled(pipe, {}), false);
    assert.equal(colorEnabled(tty, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled(tty, { NO_COLOR: '' }), true);
    assert.equal(colorEnabled(pipe, { FORCE_COLOR: '1' }), true);
    assert.equal(colorEnabled(pipe, { FORCE_COLOR: '0' }), false);
    assert.equal(colorEnabled(tty, { FORCE_COLOR: '1', NO_COLOR: '1' }), true);
  });
});

describe('errors and progress', () => {
  it('prints `error: CODE: message` on stderr and returns the table exit code', () => {
    const run = io();
    const code = printError(run.io, appError('INSUFFICIENT_IPS', 'provider-2 has no free IPs'));
    assert.equal(code, EXIT.conflict);
    assert.equal(run.stderr.text(), 'error: INSUFFICIENT_IPS: provider-2 has no free IPs\n');
    assert.equal(run.stdout.text(), '');
  });

  it('writes progress to stderr only', () => {
    const run = io();
    progressOn(run.io)('waiting for bids');
    assert.equal(run.stderr.text(), '· waiting for bids\n');
    assert.equal(run.stdout.text(), '');
  });

  it('shortens long addresses and keeps short ones', () => {
    assert.equal(shortAddress('akash1cad0wjayts6vuw8e9mysaqxujfskpktmhadxlt'), 'akash1cad0…hadxlt');
    assert.equal(shortAddress('provider-1'), 'provider-1');
  });
});
