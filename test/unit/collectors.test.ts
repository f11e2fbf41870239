import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ExporterState } from '../../src/state/exporter-state.ts';
import { recordInventoryFailure, recordInventoryRead } from '../../src/state/health.ts';
import { NO_INVENTORY } from '../../src/inventory/inventory.ts';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import { appendLiveExposition, createMetricsEndpoint } from '../../src/metrics/collectors.ts';
import { lintExposition } from '../support/exposition.ts';
import { assertGolden } from '../support/golden.ts';
import { SHOP_DB } from '../support/owners.ts';
import {
  recordCompletedCycle,
  recordFailedCycle,
  scanResult,
  testConfig,
  twoCycleState,
} from '../support/snapshots.ts';

const BUILD = { version: '0.1.0', revision: 'abc123', nodejsVersion: 'v24.21.0', nmapVersion: '7.93' };

async function render(state: ReturnType<typeof twoCycleState>['state']): Promise<string> {
  return createMetricsEndpoint({ state, build: BUILD, processMetrics: false }).render();
}

describe('exporter metrics', () => {
  it('renders the exposition of two cycles exactly as the golden file', async () => {
    const { state } = twoCycleState();
    await assertGolden('metrics-two-cycles.prom', await render(state));
  });

  it('renders a failed cycle after a good one: results kept, scan_success 0', async () => {
    const { state } = twoCycleState();
    recordFailedCycle(state, {
      cycle: 3,
      scope: 'sweep',
      addressesScanned: 16,
      startedAt: new Date('2026-11-26T03:00:00Z'),
      finishedAt: new Date('2026-11-26T03:50:00Z'),
      success: false,
      error: { code: 'NMAP_TIMEOUT', message: 'nmap did not finish within scan.timeout and was stopped' },
    });
    const text = await render(state);
    assert.match(text, /^exposure_scan_success 0$/m);
    assert.match(text, /^exposure_scan_duration_seconds 3000$/m);
    assert.match(text, /^exposure_scans_total\{result="failure"\} 1$/m);
    assert.match(text, /^exposure_port_open\{ip="203.0.113.10",port="27017",.*\} 1$/m);
  });

  it('drops the series of a port once a cycle sees it closed', async () => {
    const { state, second } = twoCycleState();
    const config = state.config;
    const third = buildSnapshot({
      result: scanResult(
        [{ ip: '203.0.113.7', openPorts: [{ port: 22, protocol: 'tcp', service: 'ssh' }] }],
        '2026-11-26T03:00:41.200Z',
      ),
      inventory: NO_INVENTORY,
      rules: config.rules,
      previous: second,
    });
    recordCompletedCycle(
      state,
      {
        cycle: 3,
        scope: 'sweep',
        addressesScanned: 16,
        startedAt: third.scan.startedAt,
        finishedAt: third.scan.finishedAt,
        success: true,
        error: null,
      },
      third,
    );
    const text = await render(state);
    assert.doesNotMatch(text, /^exposure_port_open\{/m);
    assert.doesNotMatch(text, /^exposure_port_first_seen_timestamp_seconds\{/m);
    // One closed by the second cycle, five more by the third.
    assert.match(text, /^exposure_port_changes_total\{change="closed"\} 6$/m);
    assert.match(text, /^exposure_open_ports\{class="nonstandard"\} 0$/m);
  });

  it("renders the admitting rules of nonstandard ports, the latent exposures and the owner's email", async () => {
    const { state, second } = twoCycleState();
    const world = {
      securityGroupId: 'sg-1',
      securityGroup: 'shop-db',
      ethertype: 'IPv4',
      protocol: 'tcp',
      remoteIpPrefix: '0.0.0.0/0',
      remoteGroupId: null,
    } as const;
    const rules = [
      { ...world, ruleId: 'r-ssh', portMin: 22, portMax: 22 },
      { ...world, ruleId: 'r-redis', portMin: 6379, portMax: 6379 },
      { ...world, ruleId: 'r-mongo', portMin: 27017, portMax: 27018 },
    ];
    const third = buildSnapshot({
      result: scanResult(
        [
          {
            ip: '203.0.113.7',
            openPorts: [
              { port: 22, protocol: 'tcp', service: 'ssh' },
              { port: 6379, protocol: 'tcp', service: 'redis' },
            ],
          },
        ],
        '2026-11-26T03:00:41.200Z',
      ),
      inventory: {
        ...NO_INVENTORY,
        owners: new Map([['203.0.113.7', SHOP_DB]]),
        security: new Map([['203.0.113.7', { portSecurity: true, public: true, rules }]]),
      },
      rules: state.config.rules,
      previous: second,
      scanned: () => true,
    });
    recordCompletedCycle(
      state,
      {
        cycle: 3,
        scope: 'sweep',
        addressesScanned: 1,
        startedAt: third.scan.startedAt,
        finishedAt: third.scan.finishedAt,
        success: true,
        error: null,
      },
      third,
    );
    const text = await render(state);
    // Standard 22 is admitted too, but only nonstandard ports are exposures.
    assert.deepEqual(text.match(/^exposure_port_admitted_info\{.*$/gm), [
      'exposure_port_admitted_info{ip="203.0.113.7",port="6379",protocol="tcp",security_group="shop-db",rule_id="r-redis"} 1',
    ]);
    const owner = 'vm_id="8a2f6c1e-3b7d-4e59-9c1a-5d0e7f3b2a61",vm_name="db-1",user="alice",tenant="shop"';
    assert.deepEqual(text.match(/^exposure_latent_port\{.*$/gm), [
      `exposure_latent_port{ip="203.0.113.7",port="6379",protocol="tcp",severity="high",security_group="shop-db",rule_id="r-redis",${owner}} 1`,
      `exposure_latent_port{ip="203.0.113.7",port="27017",protocol="tcp",severity="high",security_group="shop-db",rule_id="r-mongo",${owner}} 1`,
      `exposure_latent_port{ip="203.0.113.7",port="27018",protocol="tcp",severity="high",security_group="shop-db",rule_id="r-mongo",${owner}} 1`,
    ]);
    assert.match(text, /^exposure_vm_info\{ip="203.0.113.7",.*,user_email="alice@shop.example.test",.*\} 1$/m);
    const { code, output } = await lintExposition(text);
    assert.equal(output, '');
    assert.equal(code, 0);
  });

  it('produces an exposition that promtool check metrics accepts', async () => {
    const { state } = twoCycleState();
    const text = await render(state);
    const { code, output } = await lintExposition(text);
    assert.equal(output, '');
    assert.equal(code, 0);
  });

  it('reports the inventory up or down once read, keeps the last good one, and omits it without an openstack block', async () => {
    const { state } = twoCycleState(testConfig('scan:\n  targets: ["203.0.113.0/28"]\nopenstack:\n  cloud: mycloud\n'));
    assert.doesNotMatch(await render(state), /^exposure_openstack_up /m, 'absent before the first read');
    const readAt = new Date('2026-11-26T01:30:00Z');
    state.recordInventory(
      recordInventoryRead(
        {
          ...NO_INVENTORY,
          source: 'openstack',
          syncedAt: readAt,
          publicAddresses: ['203.0.113.7', '198.51.100.4', '198.51.100.5'],
        },
        readAt,
      ),
    );
    let text = await render(state);
    assert.match(text, /^exposure_openstack_up 1$/m);
    assert.match(text, /^exposure_openstack_last_sync_timestamp_seconds 1795656600$/m);
    assert.match(text, /^exposure_inventory_addresses_outside_targets 2$/m);
    state.recordInventory(recordInventoryFailure(state.health.inventory, new Date('2026-11-26T01:40:00Z')));
    text = await render(state);
    assert.match(text, /^exposure_openstack_up 0$/m);
    assert.match(text, /^exposure_openstack_last_sync_timestamp_seconds 1795656600$/m, 'the last good read stays');
    assert.doesNotMatch(await render(twoCycleState().state), /^exposure_openstack_up /m);
  });

  it('leaves per-cycle gauges absent, not 0, before the first cycle', async () => {
    const text = await render(new ExporterState({ config: testConfig(), startedAt: new Date('2026-11-26T00:00:00Z') }));
    for (const name of [
      'exposure_scan_success',
      'exposure_scan_duration_seconds',
      'exposure_scan_last_success_timestamp_seconds',
      'exposure_scan_hosts_up',
    ]) {
      assert.doesNotMatch(text, new RegExp(`^${name} `, 'm'), `${name} is absent`);
    }
    assert.match(text, /^exposure_scan_in_progress 0$/m);
    assert.match(text, /^exposure_scan_targets 16$/m);
  });

  it('serves two gzip members that gunzip to the identity body, the live part included', async () => {
    const { state } = twoCycleState();
    // Without process metrics, which change between two scrapes.
    const endpoint = createMetricsEndpoint({ state, build: BUILD, processMetrics: false });
    const compressed = await endpoint.renderBody({ gzip: true });
    const identity = Buffer.concat(await endpoint.renderBody({ gzip: false }));
    assert.equal(compressed.length, 2);
    for (const member of compressed)
      assert.deepEqual([...member.subarray(0, 2)], [0x1f, 0x8b], 'each chunk opens a gzip member');
    assert.deepEqual(gunzipSync(Buffer.concat(compressed)), identity);
    assert.match(identity.toString('utf8'), /^exposure_port_open\{ip="203.0.113.9",port="2375",.*\} 1$/m);
    assert.match(identity.toString('utf8'), /^exposure_scans_total\{result="success"\} 2$/m);
  });

  it("appends another module's live metrics after the exposition, as one more gzip member", async () => {
    const { state } = twoCycleState();
    const base = createMetricsEndpoint({ state, build: BUILD, processMetrics: false });
    const extra = '# HELP test_extra Extra.\n# TYPE test_extra gauge\ntest_extra 1\n';
    const endpoint = appendLiveExposition(base, async () => extra);
    const text = await endpoint.render();
    assert.equal(text, `${await base.render()}${extra}`);
    const compressed = await endpoint.renderBody({ gzip: true });
    assert.equal(compressed.length, 3);
    assert.equal(gunzipSync(Buffer.concat(compressed)).toString('utf8'), text);
  });

  it('renders the snapshot part once per snapshot or config while the live part follows every scrape', async () => {
    const { state, second } = twoCycleState();
    let renders = 0;
    const endpoint = createMetricsEndpoint({
      state,
      build: BUILD,
      processMetrics: false,
      onSnapshotRender: () => (renders += 1),
    });
    const first = await endpoint.render();
    await endpoint.renderBody({ gzip: true });
    recordFailedCycle(state, {
      cycle: 3,
      scope: 'sweep',
      addressesScanned: 16,
      startedAt: new Date('2026-11-26T03:00:00Z'),
      finishedAt: new Date('2026-11-26T03:10:00Z'),
      success: false,
      error: { code: 'NMAP_FAILED', message: 'nmap exited with status 1' },
    });
    const afterFailure = await endpoint.render();
    assert.equal(renders, 1, 'a failed cycle keeps the snapshot, so its bytes are reused');
    assert.match(first, /^exposure_scan_success 1$/m);
    assert.match(afterFailure, /^exposure_scan_success 0$/m);
    const third = buildSnapshot({
      result: scanResult(
        [{ ip: '203.0.113.7', openPorts: [{ port: 6379, protocol: 'tcp', service: 'redis' }] }],
        '2026-11-26T04:00:41.200Z',
      ),
      inventory: NO_INVENTORY,
      rules: state.config.rules,
      previous: second,
    });
    recordCompletedCycle(
      state,
      {
        cycle: 4,
        scope: 'sweep',
        addressesScanned: 16,
        startedAt: third.scan.startedAt,
        finishedAt: third.scan.finishedAt,
        success: true,
        error: null,
      },
      third,
    );
    const afterSwap = await endpoint.render();
    assert.equal(renders, 2);
    assert.doesNotMatch(afterSwap, /^exposure_port_open\{ip="203.0.113.9",/m);
    state.recordReload(
      { successful: true, at: new Date('2026-11-26T04:05:00Z') },
      { config: testConfig('scan:\n  targets: ["203.0.113.0/28"]\n'), snapshot: third },
    );
    const afterReload = await endpoint.render();
    assert.equal(renders, 3);
    assert.doesNotMatch(afterReload, /^exposure_exception_expiry_timestamp_seconds\{/m);
  });

  it('labels no exposure series with job or instance', async () => {
    const { state } = twoCycleState(testConfig());
    const text = await render(state);
    assert.doesNotMatch(text, /[{,](job|instance)="/);
  });
});

describe('sweep and inventory_file metrics', () => {
  const config = testConfig(
    'scan:\n  targets: ["203.0.113.0/28", "2001:db8::/64"]\ninventory_file: {path: inventory.yml}\n',
  );

  it('are absent without an inventory, so the exposition without one stays as it was', async () => {
    const text = await render(twoCycleState().state);
    assert.doesNotMatch(text, /exposure_sweep_|exposure_inventory_file_/);
  });

  it('describe the last sweep, the ranges never swept and the file health once an inventory_file is configured', async () => {
    const state = new ExporterState({ config, startedAt: new Date('2026-11-26T01:00:00Z') });
    const before = await render(state);
    assert.match(before, /^exposure_sweep_ranges_skipped 1$/m);
    assert.doesNotMatch(before, /^exposure_sweep_last_success_timestamp_seconds /m, 'absent before the first sweep');
    assert.doesNotMatch(before, /^exposure_inventory_file_up /m, 'absent before the first read');
    state.recordInventoryFile(
      recordInventoryFailure(recordInventoryRead({ ...NO_INVENTORY, source: 'file' }, new Date()), new Date()),
    );
    const result = scanResult([], '2026-11-26T01:00:41.200Z', { hostsUp: 5 });
    const snapshot = buildSnapshot({
      result,
      inventory: { ...NO_INVENTORY, source: 'file' },
      rules: config.rules,
      previous: undefined,
    });
    recordCompletedCycle(
      state,
      {
        cycle: 1,
        scope: 'sweep',
        addressesScanned: 16,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        success: true,
        error: null,
      },
      snapshot,
    );
    const text = await render(state);
    assert.match(text, /^exposure_sweep_duration_seconds 41.2$/m);
    assert.match(text, /^exposure_sweep_last_success_timestamp_seconds 1795654841.2$/m);
    assert.match(text, /^exposure_sweep_addresses_up 5$/m);
    assert.match(text, /^exposure_inventory_file_up 0$/m);
    assert.match(text, /^exposure_inventory_file_addresses 0$/m);
    const { code, output } = await lintExposition(text);
    assert.equal(output, '');
    assert.equal(code, 0);
  });
});
