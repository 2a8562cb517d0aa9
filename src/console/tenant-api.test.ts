import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { priceJson, sdlFromText } from './tenant-api.js';

describe('console tenant API helpers', () => {
  it('prices per block as the CLI prints it and per 30-day month at Akash’s block time', () => {
    // 5 USD/month at 1 USD/AKT is 5e6 uakt over 30 × 86 400 / 6.098 blocks
    const perBlock = (5e6 * 6.098) / (30 * 86_400);
    const price = priceJson(perBlock.toFixed(18));
    assert.equal(price.perBlock, '11.7631 uakt/block');
    assert.equal(price.perMonth, '≈ 5.00 AKT/month');
    assert.equal(priceJson('0').perMonth, '≈ <0.01 AKT/month');
  });

  it('refuses an SDL with the engine’s codes and positions', () => {
    const refused = sdlFromText('version: "2.0"\nservices: {}\n');
    assert.equal(refused.ok, false);
    if (refused.ok) return;
    assert.match(refused.error.code, /^SDL_/);
    assert.match(refused.error.message, /^\d+:\d+: SDL_/);
  });
});
