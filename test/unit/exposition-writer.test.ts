import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { NO_INVENTORY } from '../../src/inventory/inventory.ts';
import type { AddressOwner } from '../../src/inventory/inventory.ts';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import {
  escapeHelp,
  escapeLabelValue,
  formatSampleValue,
  renderGaugeFamily,
} from '../../src/metrics/exposition-writer.ts';
import type { GaugeFamily } from '../../src/metrics/exposition-writer.ts';
import { EXPOSURE_FAMILIES } from '../../src/metrics/exposure-metrics.ts';
import { registerGaugeFamily } from '../../src/metrics/gauges.ts';
import { CYCLE_RESULT_FAMILIES } from '../../src/metrics/health-metrics.ts';
import { listInfoFamilies } from '../../src/metrics/info-metrics.ts';
import type { SnapshotInput } from '../../src/metrics/snapshot-exposition.ts';
import { SWEEP_FAMILIES } from '../../src/metrics/sweep-metrics.ts';
import { lintExposition } from '../support/exposition.ts';
import { FIRST_HOSTS, scanResult, testConfig } from '../support/snapshots.ts';

/** Label values a VM's owner can choose freely (names come from Nova and Keystone), at their most hostile. */
const HOSTILE_VALUES = [
  'say "hi"',
  'C:\\Users\\admin',
  'line one\nline two',
  'trailing backslash \\',
  '\\"already escaped\\"',
  '\\n literally',
  'carriage\rreturn and\ttab',
  '<script>alert("x")</script>',
  'Zürich – 東京 – 🚀',
  '',
  '{a="b"},c="d"',
];

/** What prom-client, the reference, writes for these families: each on its own registry, in the same order. */
async function renderWithPromClient<I>(families: readonly GaugeFamily<string, I>[], input: I): Promise<string> {
  const registry = new Registry();
  for (const family of families) registerGaugeFamily(registry, family, () => input);
  return registry.metrics();
}

/**
 * What the writer writes. Each family ends in the blank line that separates it from the next one, where
 * prom-client's last family ends in a single newline; without that last newline the two must be equal.
 */
function renderWithWriter<I>(families: readonly GaugeFamily<string, I>[], input: I): string {
  return families
    .map((family) => renderGaugeFamily(family, input))
    .join('')
    .slice(0, -1);
}

const HOSTILE_FAMILY: GaugeFamily<'value' | 'index', readonly string[]> = {
  name: 'test_hostile_labels',
  help: 'Labels "as given" with a \\ backslash,\na newline and <b>markup</b>.',
  labelNames: ['value', 'index'],
  series(values, set) {
    for (const [index, value] of values.entries()) set({ value, index }, index);
  },
};

describe('exposition writer', () => {
  it('escapes hostile label values and HELP text exactly as prom-client does', async () => {
    const written = renderWithWriter([HOSTILE_FAMILY], HOSTILE_VALUES);
    assert.equal(written, await renderWithPromClient([HOSTILE_FAMILY], HOSTILE_VALUES));
    assert.match(
      written,
      /^# HELP test_hostile_labels Labels "as given" with a \\\\ backslash,\\na newline and <b>markup<\/b>\.$/m,
    );
    assert.match(written, /^test_hostile_labels\{value="line one\\nline two",index="2"\} 2$/m);
  });

  it('escapes backslash, newline and double quote in label values, and leaves the rest alone', () => {
    assert.equal(escapeLabelValue('a\\b\nc"d'), 'a\\\\b\\nc\\"d');
    assert.equal(escapeLabelValue('<script>Zürich\t🚀\r'), '<script>Zürich\t🚀\r');
  });

  it('escapes backslash and newline in HELP text but not double quotes', () => {
    assert.equal(escapeHelp('a\\b\nc"d'), 'a\\\\b\\nc"d');
  });

  it('writes sample values as prom-client does, non-finite ones included', async () => {
    const values = [0, -0, 1, 0.1, 1795654841.2, 1e21, 5e-324, -2.5, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity];
    const family: GaugeFamily<'index', readonly number[]> = {
      name: 'test_values',
      help: 'Values.',
      labelNames: ['index'],
      series: (input, set) => {
        for (const [index, value] of input.entries()) set({ index }, value);
      },
    };
    assert.equal(renderWithWriter([family], values), await renderWithPromClient([family], values));
    assert.deepEqual([NaN, Infinity, -Infinity, 1e21].map(formatSampleValue), ['Nan', '+Inf', '-Inf', '1e+21']);
  });

  it('keeps the first place and the last value of a label set given twice, as a prom-client gauge does', async () => {
    const family: GaugeFamily<'ip', readonly (readonly [string, number])[]> = {
      name: 'test_repeated',
      help: 'Repeated.',
      labelNames: ['ip'],
      series: (input, set) => {
        for (const [ip, value] of input) set({ ip }, value);
      },
    };
    const input = [
      ['203.0.113.9', 1],
      ['203.0.113.7', 2],
      ['203.0.113.9', 3],
    ] as const;
    const written = renderWithWriter([family], input);
    assert.equal(written, await renderWithPromClient([family], input));
    assert.deepEqual(written.split('\n').slice(2, -1), [
      'test_repeated{ip="203.0.113.9"} 3',
      'test_repeated{ip="203.0.113.7"} 2',
    ]);
  });

  it('writes HELP and TYPE but no sample for an unlabelled family that has no value, as prom-client does', async () => {
    const family: GaugeFamily<never, undefined> = { name: 'test_absent', help: 'Absent.', series: () => {} };
    const written = renderWithWriter([family], undefined);
    assert.equal(written, '# HELP test_absent Absent.\n# TYPE test_absent gauge\n');
    assert.equal(written, await renderWithPromClient([family], undefined));
  });

  it('renders every cached family of a snapshot with hostile owners byte for byte as prom-client does, and promtool accepts it', async () => {
    const config = testConfig();
    const owners = new Map<string, AddressOwner>(
      FIRST_HOSTS.map((host, index) => [host.ip, hostileOwner(HOSTILE_VALUES.slice(index * 3))]),
    );
    const snapshot = buildSnapshot({
      result: scanResult(FIRST_HOSTS, '2026-11-26T01:00:41.200Z'),
      inventory: { ...NO_INVENTORY, source: 'openstack', owners },
      rules: config.rules,
      previous: undefined,
    });
    const families = [
      ...EXPOSURE_FAMILIES,
      ...CYCLE_RESULT_FAMILIES,
      ...SWEEP_FAMILIES,
      ...listInfoFamilies(hostileBuild()),
    ];
    const input: SnapshotInput = { snapshot, config };
    const written = renderWithWriter(families, input);
    assert.equal(written, await renderWithPromClient(families, input));
    assert.match(written, /vm_name="say \\"hi\\"",/);
    assert.match(written, /nodejs_version="<script>alert\(\\"x\\"\)<\/script>"/);
    const { code, output } = await lintExposition(written);
    assert.equal(output, '');
    assert.equal(code, 0);
  });
});

function hostileOwner(values: readonly string[]): AddressOwner {
  const pick = (index: number): string => values[index % values.length] ?? '';
  return {
    vmId: pick(0),
    vmName: pick(0),
    vmStatus: pick(1),
    ownerKind: 'compute',
    userId: pick(2),
    user: pick(1),
    tenantId: pick(2),
    tenant: pick(3),
    userEmail: pick(1),
  };
}

function hostileBuild() {
  return {
    version: '1.0.0\n',
    revision: 'C:\\build',
    nodejsVersion: '<script>alert("x")</script>',
    nmapVersion: 'Zürich 🚀',
  };
}
