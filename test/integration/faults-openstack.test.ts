/**
 * OpenStack failing under a running exporter. The built exporter reads a fake OpenStack (test/support/
 * fake-openstack.ts, the lab cloud's recorded answers) and scans, with real nmap, a listener on the floating IP
 * the recordings give alpha-web-1 (127.42.0.11, loopback). Every fault must leave the exposure served with
 * its owner's names, turn exposure_openstack_up to 0 with a log line naming the cause, and recover to 1 once
 * the cloud answers again; a restart on the same state file keeps the names.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startExporter } from '../support/exporter-process.ts';
import type { ExporterProcess } from '../support/exporter-process.ts';
import { sampleValue } from '../support/exposition.ts';
import { startFakeOpenStack } from '../support/fake-openstack.ts';
import type { FakeOpenStack, OpenStackFault } from '../support/fake-openstack.ts';
import {
  assertRestartRestores,
  exposuresIn,
  firstSeenIn,
  logsWith,
  lookup,
  waitForLog,
  waitForMoreScans,
} from '../support/fault-checks.ts';
import { createSwitchableNmap } from '../support/switchable-nmap.ts';
import type { SwitchableNmap } from '../support/switchable-nmap.ts';
import { openTcpListener } from '../support/tcp-listener.ts';
import type { TcpListener } from '../support/tcp-listener.ts';
import { loggedError } from '../support/logged-error.ts';

const ALPHA_WEB_IP = '127.42.0.11';
const INVENTORY_FAILED = 'cannot read the inventory; keeping the last good one';

interface FaultCase {
  readonly name: string;
  readonly fault: OpenStackFault;
  readonly code: string;
  readonly err: string | RegExp;
}

/** request_timeout is 1s in the config below, so "slow" is 2.5 s. */
const FAULTS: readonly FaultCase[] = [
  {
    name: 'answers 401 to everything, the token request included',
    fault: { kind: 'status', status: 401 },
    code: 'OPENSTACK_AUTH',
    err: 'Keystone refused the credentials: POST identity /v3/auth/tokens returned 401: The request you have made requires authentication.',
  },
  {
    name: 'answers 403',
    fault: { kind: 'status', status: 403 },
    code: 'OPENSTACK_HTTP',
    err: "GET compute /v2.1/servers/detail returned 403: Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.",
  },
  {
    name: 'answers 500',
    fault: { kind: 'status', status: 500 },
    code: 'OPENSTACK_HTTP',
    err: 'GET compute /v2.1/servers/detail returned 500: Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/',
  },
  {
    name: 'answers slower than request_timeout',
    fault: { kind: 'slow', delayMs: 2500 },
    code: 'OPENSTACK_TIMEOUT',
    err: 'GET compute /v2.1/servers/detail: no complete answer within 1s',
  },
  {
    name: 'resets the connection',
    fault: { kind: 'reset' },
    code: 'OPENSTACK_HTTP',
    err: /^GET compute \/v2\.1\/servers\/detail: other side closed/,
  },
];

/**
 * While the fault lasts: openstack_up turns 0, a cycle still completes with the owner's names and first-seen
 * kept, and the log line since `logged` gives the fault's code and message.
 */
async function assertDownButServing(
  exporter: ExporterProcess,
  { name, code, err }: FaultCase,
  expected: {
    readonly logged: number;
    readonly exposures: readonly string[];
    readonly firstSeen: Record<string, number>;
  },
): Promise<void> {
  const down = await exporter.waitForMetrics((s) => lookup(s, 'exposure_openstack_up') === 0, 'openstack_up 0', 20_000);
  // A cycle that finishes while the cloud is down joins the scan with the last good inventory.
  const scanned = await waitForMoreScans(exporter, down, 'success', 'a cycle while the cloud is down');
  assert.equal(sampleValue(scanned, 'exposure_openstack_up'), 0);
  assert.deepEqual(exposuresIn(scanned), expected.exposures);
  assert.deepEqual(firstSeenIn(scanned), expected.firstSeen);
  const line = await waitForLog(exporter, INVENTORY_FAILED, name, { from: expected.logged });
  const logged = loggedError(line);
  assert.equal(logged.code, code);
  if (typeof err === 'string') assert.equal(logged.message, err);
  else assert.match(logged.message, err);
}

describe('OpenStack faults', () => {
  let dir = '';
  let cloud: FakeOpenStack;
  let listener: TcpListener;
  let nmap: SwitchableNmap;
  let configPath = '';
  let exposure = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-faults-openstack-'));
    cloud = await startFakeOpenStack();
    listener = await openTcpListener(ALPHA_WEB_IP);
    nmap = await createSwitchableNmap(dir);
    exposure = `${ALPHA_WEB_IP} ${listener.port}/tcp alpha-web-1 alice alpha`;
    const cloudsFile = join(dir, 'clouds.yaml');
    await writeFile(cloudsFile, cloud.cloudsYaml());
    configPath = join(dir, 'config.yml');
    await writeFile(
      configPath,
      `scan:
  targets: ["${ALPHA_WEB_IP}"]
  ports: "${listener.port}"
  interval: 3s
  timeout: 2s
  nmap:
    path: ${JSON.stringify(nmap.path)}
    max_rtt_timeout: 100ms
    max_retries: 1
openstack:
  cloud: fake
  clouds_file: ${JSON.stringify(cloudsFile)}
  refresh_interval: 1s
  request_timeout: 1s
state:
  path: ${JSON.stringify(join(dir, 'state.json'))}
`,
    );
  });
  after(async () => {
    await listener?.close();
    await cloud?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the last good owners through every fault, says why, recovers, and restores them after a restart', async (t) => {
    const exporter = await startExporter([`--config.file=${configPath}`]);
    let firstSeen: Record<string, number>;
    try {
      const good = await exporter.waitForMetrics(
        (samples) => exposuresIn(samples).includes(exposure) && lookup(samples, 'exposure_openstack_up') === 1,
        'a cycle with the owner from the inventory',
        20_000,
      );
      assert.deepEqual(exposuresIn(good), [exposure]);
      firstSeen = firstSeenIn(good);

      for (const faultCase of FAULTS) {
        await t.test(
          `a cloud that ${faultCase.name}: openstack_up 0, owners kept, log says ${faultCase.code}; then back to 1`,
          async () => {
            const logged = exporter.logs().length;
            cloud.setFault(faultCase.fault);
            try {
              await assertDownButServing(exporter, faultCase, { logged, exposures: [exposure], firstSeen });
            } finally {
              cloud.setFault({ kind: 'healthy' });
            }
            const up = await exporter.waitForMetrics(
              (s) => lookup(s, 'exposure_openstack_up') === 1,
              'openstack_up back to 1',
              20_000,
            );
            assert.deepEqual(exposuresIn(up), [exposure]);
          },
        );
      }

      await t.test('a token revoked in the middle of a read is re-issued once and the read succeeds', async () => {
        const seen = cloud.requests.length;
        const logged = exporter.logs().length;
        cloud.setFault({ kind: 'revoke-token-after-servers' });
        const deadline = Date.now() + 20_000;
        let read = cloud.requests.slice(seen);
        // Until the read that lost its token has asked for its last listing.
        while (!read.some((r, i) => r.status === 401 && read.slice(i).some((later) => later.path === '/v3/users'))) {
          if (Date.now() > deadline) throw new Error(`no complete read after the revocation: ${JSON.stringify(read)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
          read = cloud.requests.slice(seen);
        }
        const from = read.findIndex((r) => r.path === '/v2.1/servers/detail');
        assert.deepEqual(
          read.slice(from, from + 9).map((r) => `${r.method} ${r.path} ${r.status}`),
          [
            'GET /v2.1/servers/detail 200',
            'GET /v2.0/floatingips 401',
            'POST /v3/auth/tokens 201',
            'GET /v2.0/floatingips 200',
            'GET /v2.0/ports 200',
            'GET /v2.0/networks 200',
            'GET /v2.0/routers 200',
            'GET /v3/projects 200',
            'GET /v3/users 200',
          ],
        );
        const samples = await exporter.waitForMetrics(() => true, 'a scrape');
        assert.equal(sampleValue(samples, 'exposure_openstack_up'), 1);
        assert.deepEqual(logsWith(exporter, INVENTORY_FAILED, logged), []);
      });
    } finally {
      await nmap.setMode('hang');
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }

    await t.test('a restart while the cloud is down serves the saved owners', async () => {
      cloud.setFault({ kind: 'status', status: 500 });
      await assertRestartRestores([`--config.file=${configPath}`], { exposures: [exposure], firstSeen });
    });
  });

  it('after a restart while the cloud is down, new cycles keep the owners saved before the restart', async () => {
    cloud.setFault({ kind: 'status', status: 500 });
    await nmap.setMode('real');
    const exporter = await startExporter([`--config.file=${configPath}`]);
    try {
      const scanned = await waitForMoreScans(exporter, [], 'success', 'a cycle of the restarted exporter', 2);
      assert.equal(sampleValue(scanned, 'exposure_openstack_up'), 0);
      assert.deepEqual(exposuresIn(scanned), [exposure]);
      await waitForLog(exporter, INVENTORY_FAILED, 'the cloud is still down');
    } finally {
      cloud.setFault({ kind: 'healthy' });
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }
  });
});
