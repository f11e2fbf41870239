import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { withFinalNewline, writeChunks } from '../../src/stream-writer.ts';

/** A stream with a small buffer that takes each write only after a tick, as a slow pipe reader does. */
function slowSink(): { stream: Writable; received: () => string; writes: () => number } {
  const parts: string[] = [];
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      setImmediate(() => {
        parts.push(chunk.toString('utf8'));
        callback();
      });
    },
  });
  return { stream, received: () => parts.join(''), writes: () => parts.length };
}

describe('writeChunks', () => {
  it('hands every piece over, in order, before it resolves, in batches rather than one write a piece', async () => {
    const sink = slowSink();
    const pieces = Array.from({ length: 5000 }, (_, i) => `piece ${i};`);
    await writeChunks(sink.stream, withFinalNewline(pieces));
    assert.equal(sink.received(), `${pieces.join('')}\n`);
    assert.ok(sink.writes() < 10, `${sink.writes()} writes for ${pieces.length} pieces`);
  });

  it("rejects with the stream's error when the reader goes away", async () => {
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    await assert.rejects(writeChunks(stream, ['x'.repeat(100_000), 'y']), { code: 'EPIPE' });
  });
});
