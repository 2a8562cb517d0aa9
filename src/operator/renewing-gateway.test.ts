import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeKubeGateway } from '../k8s/index.js';
import { RenewingGateway } from './renewing-gateway.js';

describe('RenewingGateway', () => {
  it('moves to a connection with the rotated token, and closes the one it replaced at the next rotation', async () => {
    const clock = { now: 0 };
    const file = { token: 'one', fail: false };
    const opened: { token: string | undefined; gateway: FakeKubeGateway; closed: boolean }[] = [];
    const gateway = new RenewingGateway({
      initial: { server: 'https://127.0.0.1:6443', token: 'one' },
      read: async () =>
        file.fail
          ? { ok: false, error: { code: 'INVALID_INPUT', message: 'token: ENOENT' } }
          : { ok: true, value: { server: 'https://127.0.0.1:6443', token: file.token } },
      open: (connection) => {
        const entry = { token: connection.token, gateway: new FakeKubeGateway(), closed: false };
        const close = entry.gateway.close.bind(entry.gateway);
        entry.gateway.close = () => {
          entry.closed = true;
          close();
        };
        opened.push(entry);
        return entry.gateway;
      },
      everyMs: 60_000,
      now: () => clock.now,
    });
    const get = () => gateway.request({ method: 'GET', path: '/api/v1/namespaces' });
    await get();
    file.token = 'two';
    clock.now = 59_999;
    await get();
    assert.deepEqual(
      opened.map((entry) => entry.token),
      ['one'],
      'not re-read within the minute',
    );
    clock.now = 60_000;
    await get();
    assert.deepEqual(
      opened.map((entry) => [entry.token, entry.closed]),
      [
        ['one', false],
        ['two', false],
      ],
    );
    assert.equal(
      opened[1]?.gateway.count({ method: 'GET' }),
      1,
      'the request went through the new connection',
    );
    file.fail = true;
    clock.now = 120_000;
    await get();
    assert.equal(opened.length, 2, 'an unreadable token keeps the working connection');
    file.fail = false;
    file.token = 'three';
    clock.now = 180_000;
    await get();
    assert.deepEqual(
      opened.map((entry) => [entry.token, entry.closed]),
      [
        ['one', true],
        ['two', false],
        ['three', false],
      ],
    );
    gateway.close();
    assert.deepEqual(
      opened.map((entry) => entry.closed),
      [true, true, true],
    );
  });
});
