import { describe, expect, it } from 'vitest';
import { decodeExtendRecord, encodeExtendRecord, MAX_CONTEXT_BYTES } from '../../../src/image/extend-record.js';

describe('extend record label (rebase --reextend)', () => {
  it('round-trips Dockerfile text, args and a context; the app context and big contexts are flagged', () => {
    const ctx = Buffer.from([0, 1, 2, 255]);
    const text = encodeExtendRecord([
      { extensionId: 'ex/a', dockerfile: 'ARG base_image\nFROM ${base_image}\n', args: [{ name: 'X', value: 'é' }], context: ctx },
      { extensionId: 'ex/b', dockerfile: 'FROM x', args: [] },
      { extensionId: 'ex/c', dockerfile: 'FROM y', args: [], context: Buffer.alloc(MAX_CONTEXT_BYTES + 1) },
    ]);
    expect(decodeExtendRecord(text)).toEqual([
      { extensionId: 'ex/a', dockerfile: 'ARG base_image\nFROM ${base_image}\n', args: [{ name: 'X', value: 'é' }], context: ctx },
      { extensionId: 'ex/b', dockerfile: 'FROM x', args: [], appContext: true },
      { extensionId: 'ex/c', dockerfile: 'FROM y', args: [], contextOmitted: true },
    ]);
  });

  it('rejects what it did not write', () => {
    expect(() => decodeExtendRecord('nope')).toThrow(/dev\.kiln\.extend\.run is invalid/);
    expect(() => decodeExtendRecord('{"version":2,"steps":[]}')).toThrow(/version/);
    expect(() => decodeExtendRecord('{"version":1,"steps":[{"extension":"a","dockerfile":"x","args":[{"name":1}]}]}')).toThrow(/arg/);
  });
});
