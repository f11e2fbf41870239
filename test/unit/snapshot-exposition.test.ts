import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { ExporterConfig } from '../../src/state/exporter-config.ts';
import type { GaugeFamily } from '../../src/metrics/exposition-writer.ts';
import { SnapshotExposition } from '../../src/metrics/snapshot-exposition.ts';
import type { SnapshotInput } from '../../src/metrics/snapshot-exposition.ts';
import { testConfig, twoCycleState } from '../support/snapshots.ts';

/** One series per host and one per exception, so the bytes show which snapshot and config they came from. */
const FAMILY: GaugeFamily<'ip' | 'exception', SnapshotInput> = {
  name: 'test_hosts',
  help: 'Hosts.',
  labelNames: ['ip', 'exception'],
  series({ snapshot, config }, set) {
    for (const host of snapshot?.hosts ?? []) set({ ip: host.ip }, host.ports.length);
    for (const exception of config.settings.exceptions) set({ exception: exception.name }, 1);
  },
};

function createCounted(): { exposition: SnapshotExposition; renders: () => number } {
  let renders = 0;
  const exposition = new SnapshotExposition({ families: [FAMILY], onRender: () => (renders += 1) });
  return { exposition, renders: () => renders };
}

describe('snapshot exposition cache', () => {
  const { state, first, second } = twoCycleState();
  const config: ExporterConfig = state.config;

  it('renders once for as many scrapes of the same snapshot and config as come', () => {
    const { exposition, renders } = createCounted();
    const parts = Array.from({ length: 5 }, () => exposition.current({ snapshot: second, config }));
    assert.equal(renders(), 1);
    assert.ok(
      parts.every((part) => part.identity === parts[0]!.identity),
      'the same bytes every time',
    );
    assert.match(parts[0]!.identity.toString('utf8'), /^test_hosts\{ip="203.0.113.10"\} 2$/m);
  });

  it("renders again after a snapshot swap, with the new snapshot's series", () => {
    const { exposition, renders } = createCounted();
    const before = exposition.current({ snapshot: first, config }).identity.toString('utf8');
    const after = exposition.current({ snapshot: second, config }).identity.toString('utf8');
    assert.equal(renders(), 2);
    assert.match(before, /^test_hosts\{ip="203.0.113.10"\} 1$/m);
    assert.match(after, /^test_hosts\{ip="203.0.113.10"\} 2$/m);
  });

  it('renders again after a config swap even when the snapshot stays', () => {
    const { exposition, renders } = createCounted();
    const reloaded = testConfig('scan:\n  targets: ["203.0.113.0/28"]\n');
    exposition.current({ snapshot: second, config });
    const after = exposition.current({ snapshot: second, config: reloaded }).identity.toString('utf8');
    assert.equal(renders(), 2);
    assert.doesNotMatch(after, /exception="backup-rsync"/);
  });

  it('keeps only the last pair: returning to an earlier snapshot renders it again', () => {
    const { exposition, renders } = createCounted();
    for (const snapshot of [first, second, first]) exposition.current({ snapshot, config });
    assert.equal(renders(), 3);
  });

  it('renders before the first cycle, from the config alone, and again once a snapshot arrives', () => {
    const { exposition, renders } = createCounted();
    const empty = exposition.current({ snapshot: undefined, config }).identity.toString('utf8');
    assert.equal(
      empty,
      '# HELP test_hosts Hosts.\n# TYPE test_hosts gauge\ntest_hosts{exception="backup-rsync"} 1\n\n',
    );
    exposition.current({ snapshot: undefined, config });
    exposition.current({ snapshot: second, config });
    assert.equal(renders(), 2);
  });

  it('compresses once per snapshot, into a gzip member that gunzips to the identity bytes', async () => {
    const { exposition } = createCounted();
    const part = exposition.current({ snapshot: second, config });
    const [a, b] = await Promise.all([part.gzip(), part.gzip()]);
    assert.equal(a, b, 'concurrent scrapes share one compression');
    assert.equal(await exposition.current({ snapshot: second, config }).gzip(), a, 'later scrapes reuse it');
    assert.deepEqual(gunzipSync(a!), part.identity);
    assert.notEqual(await exposition.current({ snapshot: first, config }).gzip(), a, 'a swap compresses anew');
  });
});
