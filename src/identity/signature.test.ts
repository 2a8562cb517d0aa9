import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { base64urlnopad, hex } from '@scure/base';
import { adr36SignBytes, recoverSignerKey, signMessage, verifyMessage } from './signature.js';
import { CHAIN_SDK_ACCOUNT, CHAIN_SDK_TOKENS, testAccount, toHex } from './testing.js';

const utf8 = new TextEncoder();
const privateKey = hex.decode(CHAIN_SDK_ACCOUNT.privateKeyHex);
const publicKey = hex.decode(CHAIN_SDK_ACCOUNT.publicKeyHex);

function split(token: string): { input: Uint8Array; signature: Uint8Array } {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return { input: utf8.encode(`${header}.${payload}`), signature: base64urlnopad.decode(signature) };
}

describe('ADR-036 sign document', () => {
  it('is the sorted amino JSON a wallet signs for signArbitrary', () => {
    const bytes = adr36SignBytes(CHAIN_SDK_ACCOUNT.address, utf8.encode('hi'));
    assert.equal(
      new TextDecoder().decode(bytes),
      '{"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"","msgs":[{"type":' +
        `"sign/MsgSignData","value":{"data":"aGk=","signer":"${CHAIN_SDK_ACCOUNT.address}"}}],"sequence":"0"}`,
    );
  });
});

describe('signatures', () => {
  it("reproduces chain-sdk's published signatures byte for byte, for both algorithms", () => {
    const cases = [
      ['ES256K', CHAIN_SDK_TOKENS.es256kShort],
      ['ES256K', CHAIN_SDK_TOKENS.es256kFull],
      ['ES256KADR36', CHAIN_SDK_TOKENS.adr36Short],
      ['ES256KADR36', CHAIN_SDK_TOKENS.adr36Scoped],
    ] as const;
    for (const [alg, token] of cases) {
      const { input, signature } = split(token);
      assert.equal(toHex(signMessage(alg, input, privateKey)), toHex(signature), token);
      assert.ok(verifyMessage(alg, input, signature, publicKey));
    }
  });

  it('does not accept a signature under the other algorithm', () => {
    const { input, signature } = split(CHAIN_SDK_TOKENS.es256kFull);
    assert.equal(verifyMessage('ES256KADR36', input, signature, publicKey), false);
    const adr = split(CHAIN_SDK_TOKENS.adr36Scoped);
    assert.equal(verifyMessage('ES256K', adr.input, adr.signature, publicKey), false);
  });

  it('refuses the high-S twin of a valid signature', () => {
    const { input, signature } = split(CHAIN_SDK_TOKENS.es256kFull);
    const sig = secp256k1.Signature.fromBytes(signature, 'compact');
    const twin = new secp256k1.Signature(sig.r, secp256k1.Point.CURVE().n - sig.s).toBytes('compact');
    assert.equal(verifyMessage('ES256K', input, twin, publicKey), false);
    assert.equal(recoverSignerKey('ES256K', input, twin, CHAIN_SDK_ACCOUNT.address), undefined);
  });

  it('refuses wrong lengths and other keys', () => {
    const { input, signature } = split(CHAIN_SDK_TOKENS.es256kFull);
    assert.equal(verifyMessage('ES256K', input, signature.subarray(0, 63), publicKey), false);
    assert.equal(verifyMessage('ES256K', input, new Uint8Array(64), publicKey), false);
    assert.equal(verifyMessage('ES256K', input, signature, testAccount('other').publicKey), false);
  });

  it('recovers the signer key only for the address that signed', () => {
    for (const token of [CHAIN_SDK_TOKENS.es256kFull, CHAIN_SDK_TOKENS.adr36Scoped]) {
      const alg = token === CHAIN_SDK_TOKENS.es256kFull ? 'ES256K' : 'ES256KADR36';
      const { input, signature } = split(token);
      const recovered = recoverSignerKey(alg, input, signature, CHAIN_SDK_ACCOUNT.address);
      assert.equal(recovered === undefined ? undefined : toHex(recovered), CHAIN_SDK_ACCOUNT.publicKeyHex);
      assert.equal(recoverSignerKey(alg, input, signature, testAccount('other').address), undefined);
      assert.equal(recoverSignerKey(alg, input, new Uint8Array(64), CHAIN_SDK_ACCOUNT.address), undefined);
    }
  });
});
