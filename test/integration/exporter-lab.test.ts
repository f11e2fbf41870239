/**
 * The built exporter against real nmap in a network-namespace lab: three VMs with listeners on standard,
 * nonstandard and risky ports, and silent addresses around them. Requires root (namespaces, SYN scan).
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLab } from '../lab/netns-lab.ts';
import type { Lab } from '../lab/netns-lab.ts';
import { runExporter, startExporter } from '../support/exporter-process.ts';
import { lintExposition, samplesNamed, sampleValue } from '../support/exposition.ts';
import type { Sample } from '../support/exposition.ts';

const FAKE_NMAP_DIR = new URL('../fixtures/fake-nmap/', import.meta.url).pathname;

const HOSTS = [
  { ip: '198.51.100.10', ports: [22, 80, 6379, 8080] },
  { ip: '198.51.100.11', ports: [443, 27017, 2375] },
  { ip: '198.51.100.12', ports: [22, 873] },
];

/** What the lab implies: every nonstandard port with its severity (873 is excepted by the config). */
const EXPECTED_EXPOSURES = [
  '198.51.100.10 6379/tcp high',
  '198.51.100.10 8080/tcp low',
  '198.51.100.11 2375/tcp critical',
  '198.51.100.11 27017/tcp high',
];

function configYaml(lab: Lab, options: { nmapPath?: string; interval?: string; timeout?: string } = {}): string {
  return `scan:
  targets: ["198.51.100.8/29"]
  interval: ${options.interval ?? '1h'}
  timeout: ${options.timeout ?? '50m'}
  nmap:
    path: ${JSON.stringify(options.nmapPath ?? lab.nmapPath)}
    max_rtt_timeout: 200ms
    max_retries: 1
  # TCP only: these cycles run every 5s within 4s, which a UDP pass over the silent addresses would not leave
  # room for. The UDP pass has its lab of real daemons (services-exporter.test.ts).
  udp: {ports: none}
exceptions:
  - name: backup-rsync
    match: {ip: "198.51.100.12", ports: ["873/tcp"]}
    reason: approved in SEC-7
    expires: 2099-12-31
state:
  path: ${JSON.stringify(join(lab.dir, 'state.json'))}
`;
}

function exposuresIn(samples: readonly Sample[]): string[] {
  return samplesNamed(samples, 'exposure_port_open')
    .map((s) => `${s.labels['ip']} ${s.labels['port']}/${s.labels['protocol']} ${s.labels['severity']}`)
    .sort();
}

describe('exporter against a namespace lab', () => {
  let lab: Lab;
  let configPath: string;

  before(async () => {
    lab = await startLab({ hosts: HOSTS, silentRange: '198.51.100.0/24' });
    configPath = join(lab.dir, 'config.yml');
    await writeFile(configPath, configYaml(lab));
  });
  after(async () => {
    await lab?.stop();
  });

  it('--once reports exactly the nonstandard ports of the lab with their severities', async () => {
    const { code, stdout, stderr } = await runExporter([`--config.file=${configPath}`, '--once', '--fail-on-findings']);
    assert.equal(code, 3, `exit code 3 for findings; stderr: ${stderr}`);
    const report = JSON.parse(stdout) as {
      scan: { success: boolean; targets: number; hosts_up: number };
      summary: {
        nonstandard_ports: number;
        excepted_ports: number;
        suspicious_vms: number;
        by_severity: Record<string, number>;
      };
      hosts: {
        ip: string;
        suspicious: boolean;
        ports: { port: number; class: string; severity: string | null; exception: string | null }[];
      }[];
    };
    assert.equal(report.scan.success, true);
    assert.equal(report.scan.targets, 8);
    assert.equal(report.scan.hosts_up, 3, 'the five silent addresses are not up');
    const nonstandard = report.hosts.flatMap((host) =>
      host.ports
        .filter((port) => port.class === 'nonstandard')
        .map((port) => `${host.ip} ${port.port}/tcp ${port.severity}`),
    );
    assert.deepEqual(nonstandard.sort(), EXPECTED_EXPOSURES);
    assert.deepEqual(
      report.hosts.map((host) => [host.ip, host.suspicious, host.ports.map((port) => `${port.port}:${port.class}`)]),
      [
        ['198.51.100.10', true, ['22:standard', '80:standard', '6379:nonstandard', '8080:nonstandard']],
        ['198.51.100.11', true, ['443:standard', '2375:nonstandard', '27017:nonstandard']],
        ['198.51.100.12', false, ['22:standard', '873:excepted']],
      ],
    );
    assert.deepEqual(report.summary.by_severity, { critical: 1, high: 2, medium: 0, low: 1 });
    assert.equal(report.summary.excepted_ports, 1);
  });

  it('serves the lab on /metrics, drops a closed port, survives nmap failures and restores state after a restart', async (t) => {
    await writeFile(configPath, configYaml(lab, { interval: '5s', timeout: '4s' }));
    const exporter = await startExporter([`--config.file=${configPath}`]);
    let firstSeen: Sample[] = [];
    try {
      const first = await exporter.waitForMetrics(
        (samples) =>
          samples.some((s) => s.name === 'exposure_scans_total' && s.labels['result'] === 'success' && s.value >= 1),
        'the first successful cycle',
      );
      assert.equal((await fetch(`${exporter.baseUrl}/-/ready`)).status, 200);
      assert.deepEqual(exposuresIn(first), EXPECTED_EXPOSURES);
      assert.equal(sampleValue(first, 'exposure_scan_success'), 1);
      assert.equal(sampleValue(first, 'exposure_scan_targets'), 8);
      assert.equal(sampleValue(first, 'exposure_scan_hosts_up'), 3);
      assert.equal(
        sampleValue(first, 'exposure_port_excepted', { ip: '198.51.100.12', port: '873', exception: 'backup-rsync' }),
        1,
      );
      assert.equal(sampleValue(first, 'exposure_open_ports', { class: 'standard' }), 4);
      firstSeen = samplesNamed(first, 'exposure_port_first_seen_timestamp_seconds');
      assert.equal(firstSeen.length, 4);

      await t.test('promtool check metrics accepts the scrape', async () => {
        const text = await (await fetch(`${exporter.baseUrl}/metrics`)).text();
        const { code, output } = await lintExposition(text);
        assert.equal(output, '');
        assert.equal(code, 0);
      });

      await t.test('a listener that closes disappears in the next cycle and counts as closed', async () => {
        await lab.closeListener('198.51.100.10', 6379);
        const successes = sampleValue(await exporter.scrape(), 'exposure_scans_total', { result: 'success' });
        // Two more successful cycles: the first may have started before the listener closed.
        const after = await exporter.waitForMetrics(
          (samples) => sampleValue(samples, 'exposure_scans_total', { result: 'success' }) >= successes + 2,
          'two more successful cycles',
        );
        assert.deepEqual(
          exposuresIn(after),
          EXPECTED_EXPOSURES.filter((e) => !e.startsWith('198.51.100.10 6379')),
        );
        assert.equal(sampleValue(after, 'exposure_port_changes_total', { change: 'closed' }), 1);
        assert.equal(sampleValue(after, 'exposure_port_changes_total', { change: 'opened' }), 0);
        await lab.openListener('198.51.100.10', 6379);
        const reopened = await exporter.waitForMetrics(
          (samples) => exposuresIn(samples).length === EXPECTED_EXPOSURES.length,
          'the reopened port to be seen again',
        );
        assert.deepEqual(exposuresIn(reopened), EXPECTED_EXPOSURES);
        assert.equal(sampleValue(reopened, 'exposure_port_changes_total', { change: 'opened' }), 1);
      });

      for (const fake of ['exit1', 'garbage', 'truncated', 'hang']) {
        await t.test(
          `a fake nmap that ${fake === 'exit1' ? 'exits 1' : fake === 'hang' ? 'hangs' : `prints ${fake} output`} leaves the last results served with scan_success 0`,
          async () => {
            const before = await exporter.scrape();
            const failures = sampleValue(before, 'exposure_scans_total', { result: 'failure' });
            await writeFile(
              configPath,
              configYaml(lab, { interval: '5s', timeout: '4s', nmapPath: join(FAKE_NMAP_DIR, fake) }),
            );
            exporter.child.kill('SIGHUP');
            const failed = await exporter.waitForMetrics(
              (samples) => sampleValue(samples, 'exposure_scans_total', { result: 'failure' }) > failures,
              `a failed cycle with the ${fake} nmap`,
            );
            assert.equal(sampleValue(failed, 'exposure_scan_success'), 0);
            assert.equal(sampleValue(failed, 'exposure_config_last_reload_successful'), 1);
            assert.deepEqual(exposuresIn(failed), exposuresIn(before), 'the previous snapshot is still served');
            assert.equal(exporter.child.exitCode, null, 'the exporter is still running');
            const report = (await (await fetch(`${exporter.baseUrl}/report`)).json()) as {
              scan: { success: boolean; error: { code: string } };
            };
            assert.equal(report.scan.success, false);
            const expectedCode = {
              exit1: 'NMAP_FAILED',
              garbage: 'NMAP_OUTPUT_INVALID',
              truncated: 'NMAP_OUTPUT_INVALID',
              hang: 'NMAP_TIMEOUT',
            }[fake];
            assert.equal(report.scan.error.code, expectedCode);
          },
        );
      }

      await t.test('an invalid config on SIGHUP is rejected and the old one kept', async () => {
        await writeFile(configPath, 'scan:\n  targets: ["198.51.100.8/33"]\n');
        exporter.child.kill('SIGHUP');
        const rejected = await exporter.waitForMetrics(
          (samples) => sampleValue(samples, 'exposure_config_last_reload_successful') === 0,
          'the reload to be rejected',
        );
        assert.equal(sampleValue(rejected, 'exposure_scan_targets'), 8);
        const reload = await fetch(`${exporter.baseUrl}/-/reload`, { method: 'POST' });
        assert.equal(reload.status, 500);
        const body = (await reload.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'CONFIG_INVALID');
        assert.equal(body.error.message, `${configPath}: scan.targets[0]: "198.51.100.8/33" is not a valid CIDR`);
      });
    } finally {
      const code = await exporter.stop('SIGTERM', 10_000);
      assert.equal(code, 0, 'SIGTERM stops the exporter cleanly within 10 s');
    }

    await t.test('a restart is ready at once with the saved results and first-seen times', async () => {
      // The hanging nmap proves the results come from the state file, not from a new cycle.
      await copyFile(join(lab.dir, 'state.json'), join(lab.dir, 'state-before-restart.json'));
      await writeFile(configPath, configYaml(lab, { nmapPath: join(FAKE_NMAP_DIR, 'hang') }));
      const restarted = await startExporter([`--config.file=${configPath}`]);
      try {
        assert.equal((await fetch(`${restarted.baseUrl}/-/ready`)).status, 200);
        const samples = await restarted.scrape();
        assert.deepEqual(exposuresIn(samples), EXPECTED_EXPOSURES);
        const restoredFirstSeen = samplesNamed(samples, 'exposure_port_first_seen_timestamp_seconds');
        for (const original of firstSeen) {
          const port = original.labels['port'];
          // 6379 closed and reopened during the run, so it has a newer first-seen; the rest keep theirs.
          if (port === '6379') continue;
          const restored = restoredFirstSeen.find(
            (s) => s.labels['ip'] === original.labels['ip'] && s.labels['port'] === port,
          );
          assert.equal(
            restored?.value,
            original.value,
            `first-seen of ${original.labels['ip']}:${port} survives the restart`,
          );
        }
        const state = JSON.parse(await readFile(join(lab.dir, 'state.json'), 'utf8')) as { schema_version: number };
        assert.equal(state.schema_version, 1);
      } finally {
        assert.equal(await restarted.stop('SIGTERM', 10_000), 0);
      }
    });
  });
});
