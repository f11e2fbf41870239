/**
 * The VM this exporter exists to find: one whose security group admits a single risky port and drops everything
 * else, ping included. A routed lab of VMs behind stateful nftables policies (test/lab/firewalled-fleet.ts), real
 * nmap in the lab's scan namespace, the built exporter with the default scan settings. Requires root.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  TEST_FLEET,
  TEST_FLEET_DAEMONS,
  TEST_FLEET_EXPOSURES,
  TEST_FLEET_SILENT,
  TEST_FLEET_TARGETS,
  startFleet,
  type Fleet,
} from '../lab/firewalled-fleet.ts';
import { runExporter, startExporter } from '../support/exporter-process.ts';
import { samplesNamed, sampleValue } from '../support/exposition.ts';
import { listExposures, waitForReport } from '../support/report-polling.ts';

interface Report {
  scan: {
    success: boolean;
    scope: string;
    started_at: string;
    hosts_up: number;
    addresses_silent: number;
    nmap: { args: string[] };
  } | null;
  hosts: { ip: string; ports: { port: number; protocol: string; class: string }[] }[];
}

/** Everything but the lab's own settings is left at its default: ports, rates, discovery, UDP. */
function configText(fleet: Fleet, name: string, extra = ''): string {
  return (
    `scan:\n  targets: ["${TEST_FLEET_TARGETS}"]\n  nmap:\n    path: ${JSON.stringify(fleet.lab.nmapPath)}\n${extra}` +
    `state:\n  path: ${JSON.stringify(join(fleet.lab.dir, `${name}.state.json`))}\n`
  );
}

async function writeConfig(fleet: Fleet, name: string, text: string): Promise<string> {
  const path = join(fleet.lab.dir, `${name}.yml`);
  await writeFile(path, text);
  return path;
}

describe('VMs behind security groups that drop silently', () => {
  let fleet: Fleet;

  before(async () => {
    fleet = await startFleet({ vms: TEST_FLEET, daemons: TEST_FLEET_DAEMONS });
  });
  after(async () => {
    await fleet?.stop();
  });

  it('--once with the default settings finds every exposure, UDP behind an admitting group included', async () => {
    const config = await writeConfig(fleet, 'once', configText(fleet, 'once'));
    const { code, stdout, stderr } = await runExporter([`--config.file=${config}`, '--once'], { timeoutMs: 120_000 });
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Report;
    assert.deepEqual(listExposures(report), TEST_FLEET_EXPOSURES);
    assert.ok(report.scan?.nmap.args.includes('-Pn'));
    // Six VMs answered (.8 with a RST from ssh); without an inventory every silent address of the /28 counts.
    assert.equal(report.scan?.hosts_up, 6);
    assert.equal(report.scan?.addresses_silent, 16 - 6);
  });

  it('a server without an inventory finds every exposure in its first cycle, a sweep', async () => {
    const text = configText(fleet, 'plain-server').replace('  nmap:', '  interval: 1h\n  nmap:');
    const exporter = await startExporter([`--config.file=${await writeConfig(fleet, 'plain-server', text)}`]);
    try {
      const report = await waitForReport<Report>(exporter, 'the first cycle', (r) => r.scan?.success === true, {
        timeoutMs: 90_000,
        intervalMs: 250,
      });
      assert.deepEqual([report.scan?.scope, listExposures(report)], ['sweep', TEST_FLEET_EXPOSURES]);
      const metrics = await exporter.scrape();
      assert.equal(samplesNamed(metrics, 'exposure_port_open').length, TEST_FLEET_EXPOSURES.length);
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });

  it('the opt-in host discovery misses the VMs that admit no ping, as the docs say', async () => {
    const config = await writeConfig(fleet, 'discovery', configText(fleet, 'discovery', '    host_discovery: true\n'));
    const { stdout } = await runExporter([`--config.file=${config}`, '--once'], { timeoutMs: 120_000 });
    const found = listExposures(JSON.parse(stdout) as Report).filter((exposure) => exposure.endsWith('/tcp'));
    assert.deepEqual(found, ['198.51.100.2 6379/tcp', '198.51.100.5 31337/tcp']);
  });

  it('a server with an inventory finds them in its sweep and in its known cycles, and counts the silent VMs apart', async () => {
    const inventory = join(fleet.lab.dir, 'inventory.yml');
    await writeFile(
      inventory,
      TEST_FLEET.map((vm, index) => `- {ip: ${vm.address}, vm_name: vm-${index + 1}, tenant: lab}\n`).join(''),
    );
    const text =
      configText(fleet, 'server', '').replace('  nmap:', '  interval: 20s\n  timeout: 19s\n  nmap:') +
      `inventory_file:\n  path: ${JSON.stringify(inventory)}\n`;
    const exporter = await startExporter([`--config.file=${await writeConfig(fleet, 'server', text)}`]);
    try {
      const wait = (what: string, predicate: (report: Report) => boolean) =>
        waitForReport(exporter, what, predicate, { timeoutMs: 90_000, intervalMs: 250 });
      const swept = await wait('the start sweep', (report) => report.scan?.scope === 'sweep' && report.scan.success);
      assert.deepEqual(listExposures(swept), TEST_FLEET_EXPOSURES);
      assert.equal(
        swept.scan?.addresses_silent,
        TEST_FLEET_SILENT.length,
        'only the silent addresses the inventory names',
      );

      const known = await wait('a known cycle', (report) => report.scan?.scope === 'known' && report.scan.success);
      assert.deepEqual(listExposures(known), TEST_FLEET_EXPOSURES);
      assert.equal(known.scan?.hosts_up, 6);
      assert.equal(known.scan?.addresses_silent, TEST_FLEET_SILENT.length);
      const metrics = await exporter.scrape();
      assert.equal(sampleValue(metrics, 'exposure_scan_addresses_silent'), TEST_FLEET_SILENT.length);
      for (const ip of TEST_FLEET_SILENT) {
        assert.equal(
          samplesNamed(metrics, 'exposure_port_open').filter((sample) => sample.labels['ip'] === ip).length,
          0,
          `${ip} is silent, not exposed`,
        );
      }
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });
});

describe('the same VMs with 3 % of packets lost at random, both ways', () => {
  let fleet: Fleet;

  before(async () => {
    fleet = await startFleet({ vms: TEST_FLEET, daemons: TEST_FLEET_DAEMONS, lossPercent: 3 });
  });
  after(async () => {
    await fleet?.stop();
  });

  it('--once still finds every exposure at the default retries', async () => {
    const config = await writeConfig(fleet, 'lossy', configText(fleet, 'lossy'));
    for (let run = 1; run <= 3; run += 1) {
      const { stdout } = await runExporter([`--config.file=${config}`, '--once'], { timeoutMs: 120_000 });
      assert.deepEqual(listExposures(JSON.parse(stdout) as Report), TEST_FLEET_EXPOSURES, `run ${run}`);
    }
  });
});
