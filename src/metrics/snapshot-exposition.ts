// The part of /metrics only a new snapshot or config can change, rendered to bytes once and served from memory;
// the identity of the two immutable inputs says the bytes are still right. gzip is made on first ask.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ExporterConfig } from '../state/exporter-config.ts';
import type { Snapshot } from '../exposure/snapshot.ts';
import { renderGaugeFamilyPieces } from './exposition-writer.ts';
import type { GaugeFamily } from './exposition-writer.ts';

const compress = promisify(gzip);

/** Everything a cached family may read: typed this narrowly so that nothing live can slip into the cache. */
export interface SnapshotInput {
  readonly snapshot: Snapshot | undefined;
  readonly config: ExporterConfig;
}

export type SnapshotFamily = GaugeFamily<string, SnapshotInput>;

export interface SnapshotPart {
  readonly identity: Buffer;
  /** A complete gzip member: the scrape's live part follows as a second member, which every gunzip reads on. */
  gzip(): Promise<Buffer>;
}

export class SnapshotExposition {
  readonly #families: readonly SnapshotFamily[];
  readonly #onRender: () => void;
  #cached: { readonly input: SnapshotInput; readonly part: SnapshotPart } | undefined;

  /** `onRender` is called each time the families are rendered, which is how tests see the cache at work. */
  constructor(options: { families: readonly SnapshotFamily[]; onRender?: () => void }) {
    this.#families = options.families;
    this.#onRender = options.onRender ?? (() => {});
  }

  current(input: SnapshotInput): SnapshotPart {
    const cached = this.#cached;
    if (cached && cached.input.snapshot === input.snapshot && cached.input.config === input.config) return cached.part;
    const part = this.#render(input);
    this.#cached = { input: { snapshot: input.snapshot, config: input.config }, part };
    return part;
  }

  #render(input: SnapshotInput): SnapshotPart {
    this.#onRender();
    // Piece by piece into bytes, so the text is never alive whole (see renderGaugeFamilyPieces).
    const chunks: Buffer[] = [];
    for (const family of this.#families) {
      for (const piece of renderGaugeFamilyPieces(family, input)) chunks.push(Buffer.from(piece, 'utf8'));
    }
    const identity = Buffer.concat(chunks);
    let compressed: Promise<Buffer> | undefined;
    // Concurrent scrapes share one compression; a failure is not kept, so the next scrape tries again.
    const gzipOnce = (): Promise<Buffer> =>
      (compressed ??= compress(identity).catch((err: unknown) => {
        compressed = undefined;
        throw err;
      }));
    return { identity, gzip: gzipOnce };
  }
}
