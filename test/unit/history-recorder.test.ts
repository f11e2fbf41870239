import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/schema.ts';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import type { Snapshot } from '../../src/exposure/snapshot.ts';
import { HistoryRecorder } from '../../src/history/history-recorder.ts';
import { NO_INVENTORY, UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import { createLogger } from '../../src/log.ts';
import type { ObservedHost } from '../../src/scan/types.ts';
import { FIRST_HOSTS, scanResult, testConfig } from '../support/snapshots.ts';

const config = testConfig();
const T1 = new Date('2026-11-26T01:00:41.200Z');
const T2 = new Date('2026-11-26T02:00:41.200Z');
const T3 = new Date('2026-11-26T03:00:41.200Z');
const EVERYTHING = { tcp: () => true, udp: () => true };

function snapshotOf(hosts: readonly ObservedHost[], at: Date, previous?: Snapshot): Snapshot {
  return buildSnapshot({ result: scanResult(hosts, at), inventory: NO_INVENTORY, rules: config.rules, previous });
}

describe('HistoryRecorder', () => {
  let dir = '';
  let lines: Record<string, unknown>[] = [];
  const recorderAt = (path: string) =>
    new HistoryRecorder({
      path,
      settings: defaultConfig().history,
      log: createLogger({ level: 'debug', format: 'json', write: (line) => lines.push(JSON.parse(line)) }),
    });
  const cycle = (snapshot: Snapshot) => ({ snapshot, coverage: EVERYTHING, ownerOf: () => UNKNOWN_OWNER });
  const openPorts = (recorder: HistoryRecorder) => recorder.view.open.map((t) => `${t.ip} ${t.port}`).sort();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-recorder-'));
    lines = [];
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('seeds a new database from the restored snapshot at its first-seen times, and only a new one', () => {
    const restored = snapshotOf(FIRST_HOSTS, T2, snapshotOf(FIRST_HOSTS, T1));
    const recorder = recorderAt(join(dir, 'history.db'));
    recorder.load(restored);
    assert.deepEqual(openPorts(recorder), [
      '203.0.113.7 6379',
      '203.0.113.7 9200',
      '203.0.113.9 2375',
      '203.0.113.9 873',
    ]);
    assert.deepEqual(new Set(recorder.view.open.map((t) => t.openedAt.toISOString())), new Set([T1.toISOString()]));
    recorder.close();
    const again = recorderAt(join(dir, 'history.db'));
    again.load(snapshotOf([], T3));
    assert.equal(again.view.open.length, 4, 'a database with tickets is not seeded again');
    again.close();
  });

  it('writes each cycle, closes what a cycle saw closed, and counts it', () => {
    const recorder = recorderAt(join(dir, 'history.db'));
    recorder.load(undefined);
    const first = snapshotOf(FIRST_HOSTS, T1);
    recorder.record(cycle(first));
    assert.equal(recorder.view.lastWriteSuccessful, true);
    recorder.record(cycle(snapshotOf(FIRST_HOSTS.slice(1), T2, first)));
    assert.deepEqual(openPorts(recorder), ['203.0.113.9 2375', '203.0.113.9 873']);
    assert.deepEqual(
      recorder.view.counters.map((c) => [c.severity, c.closed, c.openSeconds]),
      [['high', 2, 2 * 3600]],
    );
    recorder.close();
  });

  it('fails without throwing while the file is not a database, and reconciles once it is gone', async () => {
    const path = join(dir, 'history.db');
    await writeFile(path, 'not a database\n');
    const recorder = recorderAt(path);
    recorder.load(undefined);
    const first = snapshotOf(FIRST_HOSTS, T1);
    recorder.record(cycle(first));
    assert.equal(recorder.view.lastWriteSuccessful, false);
    const logged = lines.find((line) => line['msg'] === 'cannot write history; scanning and serving go on');
    assert.equal(logged?.['reason'], `history database ${path}: file is not a database`);
    assert.throws(() => recorder.query({ limit: 10 }), /file is not a database/);

    await rm(path);
    recorder.record(cycle(snapshotOf(FIRST_HOSTS, T2, first)));
    assert.equal(recorder.view.lastWriteSuccessful, true);
    assert.deepEqual(new Set(recorder.view.open.map((t) => t.openedAt.toISOString())), new Set([T1.toISOString()]));
    assert.equal(recorder.query({ limit: 10 }).tickets.length, 4);
    recorder.close();
  });

  it('prunes closed tickets older than the retention', () => {
    const recorder = new HistoryRecorder({
      path: join(dir, 'history.db'),
      settings: { ...defaultConfig().history, retentionMs: 3600 * 1000 },
      log: createLogger({ level: 'error', format: 'json', write: () => {} }),
    });
    const first = snapshotOf(FIRST_HOSTS, T1);
    recorder.record(cycle(first));
    const second = snapshotOf([], T2, first);
    recorder.record(cycle(second));
    assert.equal(recorder.query({ limit: 10, state: 'closed' }).tickets.length, 4, 'closed an hour ago: kept');
    recorder.record(cycle(snapshotOf([], new Date(T3.getTime() + 1000), second)));
    assert.equal(recorder.query({ limit: 10 }).tickets.length, 0, 'closed longer ago than the retention: pruned');
    assert.deepEqual(
      recorder.view.counters.map((c) => [c.severity, c.closed]).sort(),
      [
        ['critical', 1],
        ['high', 2],
      ],
      'the counters outlive the tickets; the excepted rsync never had a severity',
    );
    recorder.close();
  });
});
