// The part writer: exact part sizes, nothing lost or repeated, whatever the write sizes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PartWriter } from '../../../src/lists/export/part-writer.js';

function collector() {
  const parts: { part: number; data: Buffer }[] = [];
  return { parts, save: async (part: number, data: Buffer) => void parts.push({ part, data }) };
}

describe('PartWriter', () => {
  it('cuts parts of exactly the part size, the last one shorter', async () => {
    const c = collector();
    const w = new PartWriter(c.save, 4);
    await w.write('abc');
    await w.write('defghij');
    await w.write('');
    await w.finish();
    expect(c.parts.map((p) => [p.part, p.data.toString()])).toEqual([
      [0, 'abcd'],
      [1, 'efgh'],
      [2, 'ij'],
    ]);
    expect(w.bytes).toBe(10);
    expect(w.parts).toBe(3);
  });

  it('saves nothing for nothing written', async () => {
    const c = collector();
    const w = new PartWriter(c.save, 4);
    await w.finish();
    expect(c.parts).toEqual([]);
  });

  it('counts bytes, not characters, and reassembles multi-byte text split across parts', async () => {
    const c = collector();
    const w = new PartWriter(c.save, 3);
    await w.write('é€😀');
    await w.finish();
    expect(w.bytes).toBe(Buffer.byteLength('é€😀'));
    expect(Buffer.concat(c.parts.map((p) => p.data)).toString('utf8')).toBe('é€😀');
  });

  it('concatenates back to what was written, in numbered order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 30 }), fc.integer({ min: 1, max: 17 }), async (chunks, size) => {
        const c = collector();
        const w = new PartWriter(c.save, size);
        for (const chunk of chunks) await w.write(Buffer.from(chunk));
        await w.finish();
        const expected = Buffer.concat(chunks.map((x) => Buffer.from(x)));
        expect(Buffer.concat(c.parts.map((p) => p.data)).equals(expected)).toBe(true);
        expect(c.parts.map((p) => p.part)).toEqual(c.parts.map((_, i) => i));
        expect(c.parts.slice(0, -1).every((p) => p.data.length === size)).toBe(true);
        expect(w.bytes).toBe(expected.length);
      }),
    );
  });
});
