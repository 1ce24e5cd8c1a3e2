import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCorpus } from '../../fuzz/corpus.js';
import { openTargets, TARGET_NAMES, type FuzzTargets } from '../../fuzz/targets.js';

// The fuzzing corpus (test/fixtures/fuzz/<target>/*.json: seeds, and every input that ever
// failed under `npm run fuzz`) replayed through the same adapters the fuzzer uses: each must
// now pass (only the parser's documented errors, every invariant kept).

let targets: FuzzTargets;

beforeAll(async () => {
  targets = await openTargets();
});

afterAll(async () => targets?.close());

describe.each(TARGET_NAMES)('fuzz corpus: %s', (name) => {
  const entries = readCorpus(name);

  it('has seeds', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry.target).toBe(name);
  });

  it.each(entries.map((e) => [e.note, e.input] as const))('%s', async (_note, input) => {
    await targets.check[name](input);
  });
});

describe('the adapters', () => {
  it('run the accepting paths too (a valid token, envelope, cookie gets through every invariant)', async () => {
    const valid = targets.logout.signed.filter((t) => targets.logout.valid.has(decodeJti(t)));
    expect(valid.length).toBeGreaterThan(0);
    for (const token of valid) await targets.check.logoutToken(token);
    const envelope = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><o:GetSecret xmlns:o="urn:ss"/></s:Body></s:Envelope>';
    for (let pad = 0; pad < 48; pad++) targets.check.soapEnvelope(envelope + ' '.repeat(pad));
  });
});

function decodeJti(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti?: string };
  return payload.jti ?? '';
}
