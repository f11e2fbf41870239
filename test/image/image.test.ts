/**
 * The container image, built from a clean copy with podman against a local stand-in of its base image
 * (podman.ts) and run for real: as uid 10001 with only NET_RAW, in the scan namespace of a routed lab of VMs
 * behind firewalls (test/lab/firewalled-fleet.ts), SYN scans through nmap's file capability; as a server with a
 * named volume, its healthcheck, SIGTERM and a restart that serves the saved state at once. Requires root.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFleet, type Fleet, type FleetVm } from '../lab/firewalled-fleet.ts';
import { pollUntil } from '../support/poll.ts';
import { runTool } from '../support/run-tool.ts';
import { listExposures } from '../support/report-polling.ts';
import { IMAGE, buildImage, ensureStandInImage, readPodman, runPodman } from './podman.ts';

const VMS: readonly FleetVm[] = [
  { address: '198.51.100.1', listening: [6379], firewall: { tcp: [6379] } },
  { address: '198.51.100.2', listening: [22, 8443], firewall: { tcp: [22, 8443], icmp: true } },
  { address: '198.51.100.3', listening: [9200], firewall: {} },
];
const EXPOSURES = ['198.51.100.1 6379/tcp', '198.51.100.2 8443/tcp'];
const SUFFIX = `${process.pid}`;
const VOLUME = `ee-image-state-${SUFFIX}`;
const ONLY_NET_RAW = ['--cap-drop=ALL', '--cap-add=NET_RAW'];

interface Report {
  scan: { success: boolean; last_success_at: string | null; nmap: { args: string[] } } | null;
  hosts: { ip: string; ports: { port: number; protocol: string; class: string }[] }[];
}

describe('the container image, built and run with podman', { timeout: 1_200_000 }, () => {
  let fleet: Fleet;
  let network: string;
  const containers: string[] = [];

  before(async () => {
    const built = await ensureStandInImage();
    const image = await buildImage();
    console.log(
      `image: ${IMAGE} built in ${(image.buildMs / 1000).toFixed(1)} s, ${(image.sizeBytes / 1e6).toFixed(0)} MB ` +
        `(stand-in base image ${built ? 'built now' : 'reused'})`,
    );
    fleet = await startFleet({ vms: VMS });
    network = `--network=ns:/run/netns/${fleet.lab.scanName}`;
    await readPodman(['volume', 'create', VOLUME]);
  });
  after(async () => {
    for (const name of containers) await runPodman(['rm', '--force', '--time=0', name]);
    await runPodman(['volume', 'rm', '--force', VOLUME]);
    await fleet?.stop();
  });

  /** A config mounted read-only where the image's entrypoint reads it. */
  async function configMount(name: string, nmap: string): Promise<string> {
    const path = join(fleet.lab.dir, `${name}.yml`);
    await writeFile(
      path,
      `scan:\n  targets: ["198.51.100.0/29"]\n  ports: "22,6379,8443,9200"\n  interval: 1h\n  timeout: 50m\n  udp: {ports: none}\n` +
        `  nmap: {path: /usr/bin/nmap${nmap}}\nstate: {path: /var/lib/exposure-exporter/state.json}\n`,
    );
    return `${path}:/etc/exposure-exporter/config.yml:ro`;
  }

  /** A request from inside the lab's scan namespace, which the container shares. */
  async function fetchInLab(path: string): Promise<{ status: number; body: string }> {
    const script = `fetch('http://127.0.0.1:9869${path}').then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), () => process.stdout.write('{"status":0,"body":""}'))`;
    const result = await runTool('ip', ['netns', 'exec', fleet.lab.scanName, process.execPath, '-e', script], {
      timeoutMs: 20_000,
    });
    return JSON.parse(result.stdout || '{"status":0,"body":""}') as { status: number; body: string };
  }

  async function startServer(name: string, config: string): Promise<void> {
    containers.push(name);
    await readPodman([
      'run',
      '-d',
      '--name',
      name,
      network,
      ...ONLY_NET_RAW,
      '-v',
      `${VOLUME}:/var/lib/exposure-exporter`,
      '-v',
      config,
      IMAGE,
    ]);
    await pollUntil(
      () => fetchInLab('/-/healthy'),
      (answer) => answer.status === 200,
      { what: `${name} to serve`, timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  it('--once as uid 10001 with only NET_RAW SYN-scans the lab and finds its exposures behind their firewalls', async () => {
    const { code, stdout, stderr } = await runPodman(
      ['run', '--rm', network, ...ONLY_NET_RAW, '-v', await configMount('once', ''), IMAGE, '--once'],
      { timeoutMs: 120_000 },
    );
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Report;
    assert.deepEqual(listExposures(report), EXPOSURES);
    assert.deepEqual(report.scan?.nmap.args.slice(0, 3), ['-sS', '--privileged', '-Pn']);
    assert.match(stderr, /msg="starting exposure-exporter" .*privilege=net_raw/);
    assert.equal((await readPodman(['image', 'inspect', '--format', '{{.Config.User}}', IMAGE])).trim(), '10001:10001');
  });

  it("runs on the image's own config and volume when a user passes only their own flags", async () => {
    const { code, stdout, stderr } = await runPodman(
      ['run', '--rm', network, ...ONLY_NET_RAW, IMAGE, '--once', '--log.level=debug'],
      { timeoutMs: 120_000 },
    );
    assert.equal(code, 0, stderr);
    assert.equal((JSON.parse(stdout) as Report).scan?.success, true);
    assert.doesNotMatch(stderr, /cannot save state|EACCES/);
  });

  it('serves as a server with a named volume: healthy, /metrics, stops on SIGTERM within 10 s, and a restart serves the saved state at once', async () => {
    await startServer(`ee-image-server-${SUFFIX}`, await configMount('server', ''));
    const first = await pollUntil(
      async () => JSON.parse((await fetchInLab('/report')).body) as Report,
      (report) => report.scan?.success === true,
      {
        what: 'the first cycle',
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    assert.deepEqual(listExposures(first), EXPOSURES);
    const health = await runPodman(['healthcheck', 'run', `ee-image-server-${SUFFIX}`]);
    assert.equal(health.code, 0, `healthcheck: ${health.stdout}${health.stderr}`);
    const metrics = await fetchInLab('/metrics');
    assert.match(metrics.body, /^exposure_port_open\{[^}]*ip="198\.51\.100\.1"[^}]*port="6379"[^}]*\} 1$/m);

    const stopStarted = Date.now();
    await readPodman(['stop', '--time=10', `ee-image-server-${SUFFIX}`], { timeoutMs: 30_000 });
    assert.ok(Date.now() - stopStarted < 10_000, `stopped in ${Date.now() - stopStarted} ms`);
    assert.equal(
      (await readPodman(['inspect', '--format', '{{.State.ExitCode}}', `ee-image-server-${SUFFIX}`])).trim(),
      '0',
    );

    // The restart's own first scan is slowed to a crawl (2 packets/s), so what it serves at once is the volume's.
    await startServer(`ee-image-restart-${SUFFIX}`, await configMount('restart', ', max_rate: 2'));
    const restored = JSON.parse((await fetchInLab('/report')).body) as Report;
    assert.equal(restored.scan?.last_success_at, first.scan?.last_success_at);
    assert.deepEqual(listExposures(restored), EXPOSURES);
    // podman logs writes the container's stderr, where the exporter logs, to its own stderr.
    const logs = await runPodman(['logs', `ee-image-restart-${SUFFIX}`]);
    assert.match(logs.stdout + logs.stderr, /msg="restored state"/);
    const stopped = Date.now();
    await readPodman(['stop', '--time=10', `ee-image-restart-${SUFFIX}`], { timeoutMs: 30_000 });
    assert.ok(Date.now() - stopped < 10_000, 'a stop during a scan is as quick');
    assert.equal(
      (await readPodman(['inspect', '--format', '{{.State.ExitCode}}', `ee-image-restart-${SUFFIX}`])).trim(),
      '0',
    );
  });
});
