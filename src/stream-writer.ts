// Writing a long text to a stream slower than its writer (stdout piped to `jq`) without holding it whole in memory.

/** Big enough that a report costs few writes, small enough that it never sits in memory whole. */
const WRITE_BATCH_CHARS = 64 * 1024;

// Resolves once the last batch is handed to the kernel: process.exit() drops whatever a pipe has not taken yet, so
// --once waits for this. Rejects on a write error (EPIPE: the reader went away).
export async function writeChunks(stream: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  let failure: Error | undefined;
  const onError = (err: Error): void => {
    failure ??= err;
  };
  stream.on('error', onError);
  let written: Promise<void> = Promise.resolve();
  const write = (batch: string): boolean => {
    let full = false;
    written = new Promise<void>((resolve, reject) => {
      full = !stream.write(batch, (err) => (err ? reject(err) : resolve()));
    });
    // Only the last batch's outcome is awaited; an earlier failure also fails the stream's later writes.
    written.catch(() => {});
    return full;
  };
  try {
    let batch = '';
    for (const chunk of chunks) {
      batch += chunk;
      if (batch.length < WRITE_BATCH_CHARS) continue;
      if (failure) throw failure;
      const full = write(batch);
      batch = '';
      if (full) await waitForDrain(stream);
    }
    if (batch !== '') write(batch);
    await written;
    if (failure) throw failure;
  } finally {
    stream.off('error', onError);
  }
}

function waitForDrain(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      stream.off('drain', done);
      stream.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
  });
}

export function* withFinalNewline(chunks: Iterable<string>): Generator<string> {
  yield* chunks;
  yield '\n';
}
