import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildExporterConfig } from '../../src/state/exporter-config.ts';
import { hasInventory } from '../../src/config/schema.ts';
import { estimateScanDuration, renderScanDuration } from '../../src/scan/scan-duration.ts';
import type { ScanDurationInput } from '../../src/scan/scan-duration.ts';
import { settingsWith } from '../support/config.ts';

function inputFrom(yaml: string): ScanDurationInput {
  const config = buildExporterConfig(settingsWith(yaml));
  return {
    scan: config.settings.scan,
    tcpPorts: config.plan.ports,
    udpPorts: config.plan.udpPorts,
    sweepAddresses: config.plan.targets.count(),
    withInventory: hasInventory(config.settings),
  };
}

describe('estimateScanDuration', () => {
  it('is addresses × ports × two tries / min_rate, UDP ports included', () => {
    // 256 × (1000 × 2 + 10 × 2) probes at 2000/s = 258.56 s.
    const estimate = estimateScanDuration(
      inputFrom(
        'scan:\n  targets: ["203.0.113.0/24"]\n  ports: "1-1000"\n  udp: {ports: "1-10"}\n  nmap: {min_rate: 2000}\n',
      ),
    );
    assert.equal(estimate.sweepMs, 258_560);
    assert.equal(estimate.perSilentAddressMs, 1010);
  });

  it('counts one try per probe with max_retries 0', () => {
    const estimate = estimateScanDuration(
      inputFrom(
        'scan:\n  targets: ["203.0.113.0/24"]\n  ports: "1-1000"\n  udp: {ports: none}\n  nmap: {min_rate: 1000, max_retries: 0}\n',
      ),
    );
    assert.equal(estimate.sweepMs, 256_000);
  });

  it('predicts no sweep with host discovery, and nothing at all without a floor', () => {
    const discovery = estimateScanDuration(
      inputFrom('scan:\n  ports: "1-1000"\n  udp: {ports: none}\n  nmap: {host_discovery: true}\n'),
    );
    assert.equal(discovery.sweepMs, undefined);
    assert.equal(discovery.perSilentAddressMs, 400);
    const input = inputFrom('scan:\n  nmap: {min_rate: 0}\n');
    assert.deepEqual(renderScanDuration(estimateScanDuration(input), input), [
      "scan durations: not predictable without scan.nmap.min_rate; nmap's own pacing on addresses that answer nothing is very slow",
    ]);
  });
});

describe('renderScanDuration', () => {
  it('states the sweep against its bound, the cost of a silent known address, and warns when the sweep cannot fit', () => {
    const input = inputFrom(
      'scan:\n  targets: ["203.0.113.0/24"]\n  ports: "1-1000"\n  udp: {ports: none}\n  interval: 2m\n  timeout: 1m\n  nmap: {min_rate: 2000}\n',
    );
    assert.deepEqual(renderScanDuration(estimateScanDuration(input), input), [
      'sweep: 256 addresses × 1000 TCP ports at 2000 packets/s: about 4m16s (scan.timeout 1m)',
      'known cycle: about 1s per known address that answers nothing; 60 such addresses fit scan.timeout (1m)',
      'warning: a sweep cannot finish within scan.timeout (1m) at 2000 packets/s: raise scan.nmap.min_rate, scan fewer ports, shard the targets or raise the bound',
    ]);
  });

  it('bounds a sweep by sweep_timeout with an inventory', () => {
    const input = inputFrom(
      'scan:\n  targets: ["203.0.113.0/28"]\n  ports: "1-100"\n  udp: {ports: none}\n  sweep_timeout: 1h\ninventory_file: {path: inventory.yml}\n',
    );
    assert.deepEqual(renderScanDuration(estimateScanDuration(input), input).slice(0, 1), [
      'sweep: 16 addresses × 100 TCP ports at 5000 packets/s: about 0.64s (scan.sweep_timeout 1h)',
    ]);
  });
});

describe('the host group warning', () => {
  it('warns when nmap would give up on the silent addresses of a host group before their ports are probed', () => {
    // ports: all → nmap groups 64 addresses; 64 × 65,535 × 2 / 5,000 = 1,677.7 s, past the default 10m.
    const input = inputFrom(
      'scan:\n  targets: ["203.0.113.0/24"]\n  ports: all\n  udp: {ports: none}\n  interval: 24h\n  timeout: 23h\n',
    );
    const lines = renderScanDuration(estimateScanDuration(input), input);
    assert.equal(
      lines.at(-1),
      'warning: nmap scans 64 addresses at once, which take about 27m58s at 5000 packets/s when they answer nothing, longer than scan.nmap.host_timeout (10m): it would give up on them; raise host_timeout or the rate, or scan fewer ports',
    );
    const defaults = inputFrom('scan:\n  targets: ["203.0.113.0/24"]\n');
    assert.equal(
      renderScanDuration(estimateScanDuration(defaults), defaults).some((line) => line.includes('host_timeout')),
      false,
    );
  });
});
