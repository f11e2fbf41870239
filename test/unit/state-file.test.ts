import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { InventorySnapshot } from '../../src/inventory/inventory.ts';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import type { Snapshot } from '../../src/exposure/snapshot.ts';
import {
  loadState,
  resolveStateFile,
  parseState,
  renderState,
  renderStatePieces,
  saveState,
} from '../../src/state/state-file.ts';
import { ExporterError } from '../../src/errors.ts';
import type { ObservedHost, ScanResult } from '../../src/scan/types.ts';
import { buildPageSnapshot } from '../support/page-snapshots.ts';
import { scanResult } from '../support/snapshots.ts';
import { SHOP_DB } from '../support/owners.ts';
import { BLOG_MYSQL_EXCEPTION, rulesWith } from '../support/config.ts';

const SAVED_AT = new Date('2026-11-26T02:00:41.950Z');
const LOADED_AT = new Date('2026-11-26T02:05:00.000Z');
/** LOADED_AT as loadState writes it into the name of a file it moves aside. */
const ASIDE_SUFFIX = '.invalid-2026-11-26T020500000Z';

const RULES = rulesWith(BLOG_MYSQL_EXCEPTION);

const INVENTORY: InventorySnapshot = {
  source: 'openstack',
  up: true,
  syncedAt: new Date('2026-11-26T01:55:00.123Z'),
  servers: 240,
  publicAddresses: [],
  warnings: [],
  security: new Map(),
  owners: new Map([
    ['203.0.113.7', SHOP_DB],
    ['2001:db8::5', { ...SHOP_DB, vmId: '0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a', vmName: 'db-2', vmStatus: 'SHUTOFF' }],
  ]),
};

function scan(startedAt: string, finishedAt: string, hosts: readonly ObservedHost[]): ScanResult {
  return scanResult(hosts, finishedAt, {
    startedAt: new Date(startedAt),
    nmapArgs: [
      ['-sT', '-n', '--open', '-p', '22,3306,6379,27017', '-T4', '-oX', '-', '-iL', '-'],
      ['-6', '-sT', '-n', '--open', '-p', '22,3306,6379,27017', '-T4', '-oX', '-', '-iL', '-'],
    ],
    targets: 257,
    hostsUp: 9,
  });
}

/** Two cycles, so the snapshot has carried-over first-seen times and both kinds of change. */
function realisticSnapshot(): Snapshot {
  const first = buildSnapshot({
    result: scan('2026-11-26T01:00:00.017Z', '2026-11-26T01:00:41.237Z', [
      {
        ip: '203.0.113.7',
        openPorts: [
          { port: 22, protocol: 'tcp', service: 'ssh' },
          { port: 6379, protocol: 'tcp', service: 'redis' },
        ],
      },
      { ip: '203.0.113.12', openPorts: [{ port: 8080, protocol: 'tcp', service: 'http-proxy' }] },
    ]),
    inventory: INVENTORY,
    rules: RULES,
    previous: undefined,
  });
  return buildSnapshot({
    result: scan('2026-11-26T02:00:00.004Z', '2026-11-26T02:00:39.512Z', [
      {
        ip: '203.0.113.7',
        openPorts: [
          { port: 22, protocol: 'tcp', service: 'ssh' },
          { port: 6379, protocol: 'tcp', service: 'redis' },
          { port: 27017, protocol: 'tcp', service: 'mongod' },
        ],
      },
      { ip: '203.0.113.12', openPorts: [{ port: 3306, protocol: 'tcp', service: 'mysql' }] },
      { ip: '2001:db8::5', openPorts: [{ port: 5432, protocol: 'tcp', service: 'postgresql' }] },
    ]),
    inventory: INVENTORY,
    rules: RULES,
    previous: first,
  });
}

const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ee-state-'));
  tempDirs.push(dir);
  return dir;
}

after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The rendered state of the realistic snapshot, changed by `mutate` as a damaged file would be. */
// biome-ignore lint/suspicious/noExplicitAny: a damaged file is any shape; each test reaches into it freely.
function corrupted(mutate: (root: { schema_version: unknown; snapshot: any }) => void): string {
  const root = JSON.parse(renderState(realisticSnapshot(), SAVED_AT));
  mutate(root);
  return JSON.stringify(root);
}

describe('renderState and parseState', () => {
  it('the snapshot fixture has carried-over first-seen times, changes and every class of port', () => {
    const snapshot = realisticSnapshot();
    assert.deepEqual(
      snapshot.hosts.flatMap((h) => h.ports.map((p) => `${h.ip} ${p.port} ${p.class} ${p.firstSeen.toISOString()}`)),
      [
        '203.0.113.7 22 standard 2026-11-26T01:00:41.237Z',
        '203.0.113.7 6379 nonstandard 2026-11-26T01:00:41.237Z',
        '203.0.113.7 27017 nonstandard 2026-11-26T02:00:39.512Z',
        '203.0.113.12 3306 excepted 2026-11-26T02:00:39.512Z',
        '2001:db8::5 5432 nonstandard 2026-11-26T02:00:39.512Z',
      ],
    );
    assert.equal(snapshot.changes.opened.length, 3);
    assert.equal(snapshot.changes.closed.length, 1);
  });

  it('reads back exactly the snapshot it wrote, dates to the millisecond', () => {
    const snapshot = realisticSnapshot();
    const restored = parseState(renderState(snapshot, SAVED_AT));
    assert.deepEqual(restored, snapshot);
    assert.equal(restored.hosts[0]?.ports[1]?.firstSeen.getTime(), Date.parse('2026-11-26T01:00:41.237Z'));
    assert.equal(restored.scan.startedAt.getTime(), Date.parse('2026-11-26T02:00:00.004Z'));
    assert.equal(restored.inventory.syncedAt?.getTime(), Date.parse('2026-11-26T01:55:00.123Z'));
  });

  it('reads back admitting rules, port security and latent exposures', () => {
    const world = {
      securityGroupId: 'sg-1',
      securityGroup: 'shop-db',
      ethertype: 'IPv4',
      protocol: 'tcp',
      remoteIpPrefix: null,
      remoteGroupId: null,
    } as const;
    const security = new Map([
      [
        '203.0.113.7',
        {
          portSecurity: true,
          public: true,
          rules: [
            { ...world, ruleId: 'r-1', portMin: 6379, portMax: 6379 },
            { ...world, ruleId: 'r-2', portMin: 3306, portMax: 3306 },
          ],
        },
      ],
      ['2001:db8::5', { portSecurity: false, public: true, rules: [] }],
    ]);
    const snapshot = buildSnapshot({
      result: scan('2026-11-26T02:00:00.004Z', '2026-11-26T02:00:39.512Z', [
        { ip: '203.0.113.7', openPorts: [{ port: 6379, protocol: 'tcp', service: 'redis' }] },
        { ip: '2001:db8::5', openPorts: [{ port: 5432, protocol: 'tcp', service: 'postgresql' }] },
      ]),
      inventory: { ...INVENTORY, security },
      rules: RULES,
      previous: undefined,
      scanned: () => true,
    });
    assert.deepEqual(snapshot.hosts[0]?.ports[0]?.admittedBy, [
      { securityGroupId: 'sg-1', securityGroup: 'shop-db', ruleId: 'r-1', remote: '0.0.0.0/0' },
    ]);
    assert.deepEqual(
      snapshot.hosts.map((host) => host.ports[0]?.portSecurity),
      [true, false],
    );
    assert.equal(snapshot.latent.length, 4);
    assert.deepEqual(parseState(renderState(snapshot, SAVED_AT)), snapshot);
  });

  it('reads a state file written before security groups and emails with none of them', () => {
    const restored = parseState(stripSecurityFields(renderState(realisticSnapshot(), SAVED_AT)));
    assert.deepEqual(restored.latent, []);
    assert.deepEqual(
      restored.hosts.map((host) => host.owner.userEmail),
      ['', '', ''],
    );
    assert.deepEqual(
      restored.hosts.flatMap((host) => host.ports.map((port) => [port.admittedBy, port.portSecurity])),
      [
        [[], null],
        [[], null],
        [[], null],
        [[], null],
        [[], null],
      ],
    );
  });

  it('reads back a snapshot with no inventory sync time', () => {
    const snapshot: Snapshot = {
      ...realisticSnapshot(),
      inventory: { source: 'none', up: true, syncedAt: undefined, servers: 0, addresses: 0 },
    };
    assert.deepEqual(parseState(renderState(snapshot, SAVED_AT)), snapshot);
  });

  it('reads back the last sweep a known cycle carries, its up addresses included', () => {
    const swept = realisticSnapshot();
    const known: Snapshot = { ...swept, scan: { ...swept.scan, scope: 'known', addressesScanned: 3 } };
    const restored = parseState(renderState(known, SAVED_AT));
    assert.equal(restored.scan.scope, 'known');
    assert.equal(restored.scan.addressesScanned, 3);
    assert.deepEqual(restored.sweep, swept.sweep);
    assert.deepEqual(restored.sweep?.upAddresses, ['203.0.113.7', '203.0.113.12', '2001:db8::5']);
  });

  it('reads a state file written before sweeps existed as a sweep of its targets, with no sweep record', () => {
    const root = JSON.parse(renderState(realisticSnapshot(), SAVED_AT));
    delete root.snapshot.sweep;
    delete root.snapshot.scan.scope;
    delete root.snapshot.scan.addressesScanned;
    const restored = parseState(JSON.stringify(root));
    assert.equal(restored.scan.scope, 'sweep');
    assert.equal(restored.scan.addressesScanned, restored.scan.targets);
    assert.equal(restored.sweep, undefined);
  });

  it('refuses a sweep record of the wrong shape, naming its path', () => {
    const root = JSON.parse(renderState(realisticSnapshot(), SAVED_AT));
    root.snapshot.sweep.upAddresses = '203.0.113.7';
    assert.throws(() => parseState(JSON.stringify(root)), {
      code: 'STATE_INVALID',
      message: 'the state file has an invalid snapshot.sweep.upAddresses',
    });
  });

  it("reads back admitting rules, port security, latent exposures and owners' emails", () => {
    const snapshot = buildPageSnapshot();
    assert.ok(
      snapshot.latent.length > 0 &&
        snapshot.hosts.some((host) => host.ports.some((port) => port.admittedBy.length > 0)),
    );
    assert.deepEqual(parseState(renderState(snapshot, SAVED_AT)), snapshot);
  });

  it('reads a state file written before those fields existed with their defaults', () => {
    const restored = parseState(stripSecurityFields(renderState(buildPageSnapshot(), SAVED_AT)));
    assert.deepEqual(restored.latent, []);
    assert.deepEqual(
      restored.hosts.map((host) => host.owner.userEmail),
      ['', '', '', '', ''],
    );
    assert.deepEqual(
      restored.hosts.flatMap((host) => host.ports.map((port) => [port.admittedBy, port.portSecurity])),
      Array(7).fill([[], null]),
    );
  });

  it('writes one JSON line with the schema version and the save time', () => {
    const text = renderState(realisticSnapshot(), SAVED_AT);
    assert.ok(text.endsWith('}\n'));
    assert.equal(text.split('\n').length, 2);
    const root = JSON.parse(text);
    assert.equal(root.schema_version, 1);
    assert.equal(root.saved_at, '2026-11-26T02:00:41.950Z');
    assert.equal(root.snapshot.hosts[0].ports[1].firstSeen, '2026-11-26T01:00:41.237Z');
  });
});

/** A snapshot of `count` hosts with two ports each, whose state file spans many writes. */
function largeSnapshot(count: number): Snapshot {
  const hosts: ObservedHost[] = Array.from({ length: count }, (_, i) => ({
    ip: `198.18.${i >> 8}.${i & 255}`,
    openPorts: [
      { port: 22, protocol: 'tcp', service: 'ssh' },
      { port: 6379, protocol: 'tcp', service: 'redis' },
    ],
  }));
  return buildSnapshot({
    result: scan('2026-11-26T01:00:00.017Z', '2026-11-26T01:00:41.237Z', hosts),
    inventory: INVENTORY,
    rules: RULES,
    previous: undefined,
  });
}

describe('renderState in pieces', () => {
  it('is exactly the compact JSON of the schema version, the save time and the snapshot, and a newline', () => {
    for (const snapshot of [realisticSnapshot(), largeSnapshot(3000)]) {
      const expected = `${JSON.stringify({ schema_version: 1, saved_at: SAVED_AT.toISOString(), snapshot })}\n`;
      assert.equal(renderState(snapshot, SAVED_AT), expected);
    }
  });

  it('comes in pieces of about 256 KiB, never the whole file at once', () => {
    const pieces = [...renderStatePieces(largeSnapshot(12_000), SAVED_AT)];
    const text = pieces.join('');
    assert.ok(text.length > 2_000_000, `the file is ${text.length} characters`);
    assert.ok(pieces.length >= 8, `${pieces.length} pieces`);
    assert.ok(Math.max(...pieces.map((piece) => piece.length)) < 300 * 1024);
  });
});

describe('saveState', () => {
  it('writes a state file of many pieces byte for byte as renderState renders it', async () => {
    const path = join(await tempDir(), 'state.json');
    const snapshot = largeSnapshot(12_000);
    await saveState({ path }, snapshot, SAVED_AT);
    assert.equal(await readFile(path, 'utf8'), renderState(snapshot, SAVED_AT));
    assert.deepEqual(await loadState({ path }, LOADED_AT), snapshot);
  });

  it('creates the missing directory and writes the rendered state', async () => {
    const path = join(await tempDir(), 'var', 'lib', 'exposure-exporter', 'state.json');
    const snapshot = realisticSnapshot();
    await saveState({ path }, snapshot, SAVED_AT);
    assert.equal(await readFile(path, 'utf8'), renderState(snapshot, SAVED_AT));
  });

  it('leaves no temporary file behind', async () => {
    const dir = await tempDir();
    const path = join(dir, 'state.json');
    await saveState({ path }, realisticSnapshot(), SAVED_AT);
    await saveState({ path }, realisticSnapshot(), new Date(SAVED_AT.getTime() + 3_600_000));
    assert.deepEqual(await readdir(dir), ['state.json']);
  });

  it('makes the file readable by its owner only', async () => {
    const path = join(await tempDir(), 'state.json');
    await saveState({ path }, realisticSnapshot(), SAVED_AT);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('replaces an earlier state whole', async () => {
    const path = join(await tempDir(), 'state.json');
    await saveState({ path }, realisticSnapshot(), SAVED_AT);
    const later = new Date('2026-11-26T03:00:40.000Z');
    await saveState({ path }, realisticSnapshot(), later);
    assert.equal(JSON.parse(await readFile(path, 'utf8')).saved_at, '2026-11-26T03:00:40.000Z');
  });

  it('reports STATE_WRITE_FAILED naming the path and cleans up when the file cannot be replaced', async () => {
    const dir = await tempDir();
    const path = join(dir, 'state.json');
    // A directory where the file should be: the temp file is written, the rename onto it fails.
    await mkdir(path);
    await assert.rejects(saveState({ path }, realisticSnapshot(), SAVED_AT), (err: unknown) => {
      assert.ok(err instanceof ExporterError);
      assert.equal(err.code, 'STATE_WRITE_FAILED');
      assert.ok(err.message.startsWith(`cannot write the state file ${path}: `), err.message);
      return true;
    });
    assert.deepEqual(await readdir(dir), ['state.json']);
  });
});

describe('loadState', () => {
  it('returns undefined when there is no state file yet', async () => {
    const path = join(await tempDir(), 'state.json');
    assert.equal(await loadState({ path }, LOADED_AT), undefined);
  });

  it('returns the snapshot saveState wrote', async () => {
    const path = join(await tempDir(), 'state.json');
    const snapshot = realisticSnapshot();
    await saveState({ path }, snapshot, SAVED_AT);
    assert.deepEqual(await loadState({ path }, LOADED_AT), snapshot);
  });

  const corruptions: [what: string, text: () => string, problem: string][] = [
    ['is not JSON', () => '{"schema_version": 1, "snapshot": {', 'the state file is not JSON'],
    ['is empty', () => '', 'the state file is not JSON'],
    [
      'has another schema_version',
      () =>
        corrupted((root) => {
          root.schema_version = 2;
        }),
      'the state file has schema_version 2, expected 1',
    ],
    [
      'has no schema_version',
      () =>
        corrupted((root) => {
          delete root.schema_version;
        }),
      'the state file has schema_version undefined, expected 1',
    ],
    [
      'has a port of 70000',
      () =>
        corrupted((root) => {
          root.snapshot.hosts[0].ports[1].port = 70000;
        }),
      'the state file has an invalid snapshot.hosts[0].ports[1].port',
    ],
    [
      'has a changed port of 0',
      () =>
        corrupted((root) => {
          root.snapshot.changes.opened[0].port = 0;
        }),
      'the state file has an invalid snapshot.changes.opened[0].port',
    ],
    [
      'has a first-seen time that is not a date',
      () =>
        corrupted((root) => {
          root.snapshot.hosts[1].ports[0].firstSeen = 'yesterday';
        }),
      'the state file has an invalid snapshot.hosts[1].ports[0].firstSeen',
    ],
    [
      'has a scan time that is a number',
      () =>
        corrupted((root) => {
          root.snapshot.scan.finishedAt = 1795658439512;
        }),
      'the state file has an invalid snapshot.scan.finishedAt',
    ],
    [
      'has an unknown severity',
      () =>
        corrupted((root) => {
          root.snapshot.hosts[0].ports[1].severity = 'urgent';
        }),
      'the state file has an invalid snapshot.hosts[0].ports[1].severity',
    ],
    [
      'has a port security that is not a boolean',
      () =>
        corrupted((root) => {
          root.snapshot.hosts[0].ports[1].portSecurity = 'yes';
        }),
      'the state file has an invalid snapshot.hosts[0].ports[1].portSecurity',
    ],
    [
      'has a latent exposure on port 0',
      () =>
        corrupted((root) => {
          root.snapshot.latent = [
            {
              ip: '203.0.113.7',
              port: 0,
              protocol: 'tcp',
              severity: 'high',
              securityGroupId: 'g',
              securityGroup: 'g',
              ruleId: 'r',
              owner: root.snapshot.hosts[0].owner,
            },
          ];
        }),
      'the state file has an invalid snapshot.latent[0].port',
    ],
    [
      'has a host without an owner',
      () =>
        corrupted((root) => {
          delete root.snapshot.hosts[2].owner;
        }),
      'the state file has an invalid snapshot.hosts[2].owner',
    ],
  ];

  for (const [what, text, problem] of corruptions) {
    it(`moves aside a file that ${what} and reports STATE_INVALID naming the problem and the new path`, async () => {
      const dir = await tempDir();
      const path = join(dir, 'state.json');
      const content = text();
      await writeFile(path, content);
      const aside = `${path}${ASIDE_SUFFIX}`;
      await assert.rejects(loadState({ path }, LOADED_AT), (err: unknown) => {
        assert.ok(err instanceof ExporterError);
        assert.equal(err.code, 'STATE_INVALID');
        assert.equal(err.message, `${problem}; moved it to ${aside}`);
        return true;
      });
      assert.deepEqual(await readdir(dir), [`state.json${ASIDE_SUFFIX}`]);
      assert.equal(await readFile(aside, 'utf8'), content);
    });
  }

  it('starts afresh after moving a corrupt file aside', async () => {
    const path = join(await tempDir(), 'state.json');
    await writeFile(path, 'not json at all');
    await assert.rejects(loadState({ path }, LOADED_AT), { code: 'STATE_INVALID' });
    assert.equal(await loadState({ path }, LOADED_AT), undefined);
  });

  it('moves a directory at the state path aside, which would otherwise fail every save', async () => {
    const dir = await tempDir();
    const path = join(dir, 'state.json');
    await mkdir(path);
    await assert.rejects(loadState({ path }, LOADED_AT), (err: unknown) => {
      assert.ok(err instanceof ExporterError);
      assert.equal(err.code, 'STATE_INVALID');
      assert.equal(
        err.message,
        `the state file ${path} is a directory, not a file; moved it to ${path}${ASIDE_SUFFIX}`,
      );
      return true;
    });
    assert.deepEqual(await readdir(dir), [`state.json${ASIDE_SUFFIX}`]);
    await saveState({ path }, realisticSnapshot(), SAVED_AT);
    assert.ok((await lstat(path)).isFile());
  });

  it('moves a symlink at the state path aside and leaves what it points to alone', async () => {
    const dir = await tempDir();
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious\n');
    const path = join(dir, 'state.json');
    await symlink(victim, path);
    await assert.rejects(loadState({ path }, LOADED_AT), { code: 'STATE_INVALID' });
    await saveState({ path }, realisticSnapshot(), SAVED_AT);
    assert.equal(await readFile(victim, 'utf8'), 'precious\n');
    assert.ok((await lstat(path)).isFile());
  });
});

describe('state file planting', () => {
  it('never writes through a name planted where the old predictable temp name was', async () => {
    const dir = await tempDir();
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious\n');
    const path = join(dir, 'state.json');
    await symlink(victim, `${path}.tmp-${process.pid}`);
    await saveState({ path }, realisticSnapshot(), SAVED_AT);
    assert.equal(await readFile(victim, 'utf8'), 'precious\n');
    assert.equal(
      (await readdir(dir)).filter((name) => name.startsWith('state.json.tmp-')).length,
      1,
      'only the planted name is left',
    );
  });

  it('keeps the state in a private subdirectory of a directory anyone may write without the sticky bit', async () => {
    const shared = await tempDir();
    await chmod(shared, 0o777);
    const resolved = await resolveStateFile({ path: join(shared, 'state.json') });
    assert.deepEqual(resolved, { path: join(shared, '.exposure-exporter', 'state.json'), private: true });
    assert.equal((await lstat(join(shared, '.exposure-exporter'))).mode & 0o777, 0o700);
    assert.deepEqual(await resolveStateFile({ path: join(shared, 'state.json') }), resolved, 'the same one next time');
  });

  it('uses state.path as it is in a private directory, a sticky one or one not made yet', async () => {
    const sticky = await tempDir();
    await chmod(sticky, 0o1777);
    for (const path of [
      join(await tempDir(), 'state.json'),
      join(sticky, 'state.json'),
      join(await tempDir(), 'not-yet', 'state.json'),
    ]) {
      assert.deepEqual(await resolveStateFile({ path }), { path, private: false });
    }
  });

  it('refuses a private subdirectory that someone else could have planted', async () => {
    const shared = await tempDir();
    await chmod(shared, 0o777);
    await mkdir(join(shared, '.exposure-exporter'), { mode: 0o755 });
    await chmod(join(shared, '.exposure-exporter'), 0o755);
    await assert.rejects(resolveStateFile({ path: join(shared, 'state.json') }), (err: unknown) => {
      assert.ok(err instanceof ExporterError);
      assert.equal(
        err.message,
        `state.path: ${shared} is writable by everyone, and ${join(shared, '.exposure-exporter')}, where the state would go instead, ` +
          'is not a directory of this user that only it may enter; remove it, or use a directory only the exporter can write',
      );
      return true;
    });
  });
});

/** A state file as an exporter wrote it before security groups and owners' emails were read. */
function stripSecurityFields(text: string): string {
  const root = JSON.parse(text);
  delete root.snapshot.latent;
  for (const host of root.snapshot.hosts) {
    delete host.owner.userEmail;
    for (const port of host.ports) {
      delete port.admittedBy;
      delete port.portSecurity;
    }
  }
  return JSON.stringify(root);
}
