/**
 * The systemd unit, checked by systemd's own tools without booting it. `systemd-analyze verify` also checks
 * that every Exec binary exists, which on a build machine would test the machine, not the unit: so the
 * unit's text goes unchanged into a temp root (`--root=`) that holds the distribution's unit files and an
 * executable stand-in at each path the unit executes. What is verified is the real file, byte for byte.
 */
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { buildNmapArgs, resolveScanType } from '../../src/scan/nmap-args.ts';
import { detectPrivilege } from '../../src/scan/privilege.ts';
import { runTool } from '../support/run-tool.ts';
import type { ToolResult } from '../support/run-tool.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const UNIT_NAME = 'exposure-exporter.service';
const UNIT = join(REPO, 'deploy/systemd', UNIT_NAME);
/** Where Debian keeps the units a service depends on by default (sysinit.target, basic.target, …). */
const DISTRIBUTION_UNITS = '/usr/lib/systemd/system';
const CAP_NET_RAW = 13;

/** Security checks the unit fails on purpose; each is explained in a comment of the unit. */
const ACCEPTED_EXPOSURES = new Set([
  'RootDirectory=/RootImage=',
  'AmbientCapabilities=',
  'MemoryDenyWriteExecute=',
  'RestrictAddressFamilies=~AF_PACKET',
  'RestrictAddressFamilies=~AF_NETLINK',
  'RestrictAddressFamilies=~AF_UNIX',
  'RestrictAddressFamilies=~AF_(INET|INET6)',
  'ProcSubset=',
  'CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)',
  'PrivateNetwork=',
  'PrivateUsers=',
  'DeviceAllow=',
  'IPAddressDeny=',
]);

type UnitFile = Map<string, Map<string, string[]>>;

describe('systemd unit', () => {
  let root = '';
  let text = '';
  let unit: UnitFile;

  before(async () => {
    text = await readFile(UNIT, 'utf8');
    unit = parseUnit(text);
    root = await mkdtemp(join(tmpdir(), 'ee-systemd-'));
    await cp(DISTRIBUTION_UNITS, join(root, DISTRIBUTION_UNITS), { recursive: true });
    await mkdir(join(root, 'etc/systemd/system'), { recursive: true });
    await writeFile(join(root, 'etc/systemd/system', UNIT_NAME), text);
    for (const program of executedPrograms(unit)) await writeStandIn(join(root, program));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('systemd-analyze verify accepts it without a single warning', async () => {
    const result = await analyze(['verify', `--root=${root}`, '--man=no', '--generators=no', UNIT_NAME]);
    assert.deepEqual(result, { code: 0, stdout: '', stderr: '' });
  });

  it('systemd-analyze verify in that root does report a misspelt directive (the check above can fail)', async () => {
    await writeFile(join(root, 'etc/systemd/system/misspelt.service'), text.replace('ProtectSystem=', 'ProtectSytem='));
    const result = await analyze(['verify', `--root=${root}`, '--man=no', '--generators=no', 'misspelt.service']);
    assert.match(result.stderr, /Unknown key 'ProtectSytem' in section \[Service\]/);
  });

  it('systemd-analyze security rates it OK, failing only the checks the unit explains', async () => {
    const result = await analyze(['security', '--offline=yes', `--root=${root}`, '--json=short', UNIT_NAME]);
    assert.equal(result.code, 0, result.stderr);
    const checks = JSON.parse(result.stdout) as { name: string; set: boolean; exposure: string | null }[];
    const failed = checks.filter((check) => !check.set && check.exposure !== null).map((check) => check.name);
    assert.deepEqual(
      failed.filter((name) => !ACCEPTED_EXPOSURES.has(name)),
      [],
    );
    const summary = await analyze(['security', '--offline=yes', `--root=${root}`, UNIT_NAME]);
    const level = /Overall exposure level for exposure-exporter\.service: (\d+\.\d) (\w+)/.exec(summary.stdout);
    assert.ok(level, summary.stdout.slice(-500));
    assert.equal(level[2], 'OK');
    assert.ok(Number(level[1]) <= 2, `exposure ${level[1]}`);
  });

  it('runs the built CLI as a dynamic user with only CAP_NET_RAW, read-only everywhere but its state directory', () => {
    assert.deepEqual(directives(unit, 'Service'), {
      Type: ['exec'],
      ExecStart: ['/usr/bin/node /opt/exposure-exporter/dist/main.js --config.file=/etc/exposure-exporter/config.yml'],
      ExecReload: ['/bin/kill -HUP $MAINPID'],
      Restart: ['on-failure'],
      RestartSec: ['5s'],
      TimeoutStopSec: ['15'],
      EnvironmentFile: ['-/etc/default/exposure-exporter'],
      DynamicUser: ['yes'],
      StateDirectory: ['exposure-exporter'],
      StateDirectoryMode: ['0750'],
      UMask: ['0077'],
      AmbientCapabilities: ['CAP_NET_RAW'],
      CapabilityBoundingSet: ['CAP_NET_RAW'],
      NoNewPrivileges: ['yes'],
      ProtectSystem: ['strict'],
      ProtectHome: ['yes'],
      PrivateTmp: ['yes'],
      PrivateDevices: ['yes'],
      PrivateMounts: ['yes'],
      ProtectProc: ['invisible'],
      ProtectKernelTunables: ['yes'],
      ProtectKernelModules: ['yes'],
      ProtectKernelLogs: ['yes'],
      ProtectControlGroups: ['yes'],
      ProtectClock: ['yes'],
      ProtectHostname: ['yes'],
      RestrictNamespaces: ['yes'],
      RestrictRealtime: ['yes'],
      RestrictSUIDSGID: ['yes'],
      LockPersonality: ['yes'],
      RemoveIPC: ['yes'],
      RestrictAddressFamilies: ['AF_INET AF_INET6 AF_UNIX AF_NETLINK AF_PACKET'],
      SystemCallArchitectures: ['native'],
      SystemCallFilter: ['@system-service', '~@privileged @resources'],
      SystemCallErrorNumber: ['EPERM'],
    });
  });

  it('keeps state where the example config (the one the README installs) writes it', async () => {
    const example = parseYaml(await readFile(join(REPO, 'examples/exposure-exporter.yml'), 'utf8')) as {
      state: { path: string };
    };
    const [stateDirectory] = directives(unit, 'Service')['StateDirectory'] ?? [];
    assert.equal(example.state.path, `/var/lib/${stateDirectory}/state.json`);
  });

  it('grants the capability in the form the exporter detects, so nmap gets a SYN scan with --privileged', () => {
    const [ambient] = directives(unit, 'Service')['AmbientCapabilities'] ?? [];
    assert.equal(ambient, 'CAP_NET_RAW');
    // What /proc/self/status shows a non-root process that systemd gave CAP_NET_RAW as an ambient capability.
    const mask = (1n << BigInt(CAP_NET_RAW)).toString(16).padStart(16, '0');
    const procStatus = `CapInh:\t${mask}\nCapPrm:\t${mask}\nCapEff:\t${mask}\nCapBnd:\t${mask}\nCapAmb:\t${mask}\nNoNewPrivs:\t1\n`;
    const privilege = detectPrivilege({ euid: 61_234, procStatus });
    assert.equal(privilege, 'net_raw');
    const args = buildNmapArgs({
      family: 4,
      ports: '22',
      scanType: resolveScanType('auto', privilege),
      privilege,
      hostDiscovery: true,
      tuning: {
        timingTemplate: 4,
        maxRttTimeoutMs: 500,
        maxRetries: 2,
        hostTimeoutMs: 600_000,
        minRate: 0,
        maxRate: 0,
      },
      statsEveryMs: 5000,
    });
    assert.deepEqual(args.slice(0, 2), ['-sS', '--privileged']);
  });
});

/** systemd's unit syntax, enough for this file: sections, `Key=value`, repeated keys kept in order. */
function parseUnit(text: string): UnitFile {
  const sections: UnitFile = new Map();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section?.[1]) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const assignment = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(assignment?.[1] !== undefined && assignment[2] !== undefined && current, `unit line: ${line}`);
    current.set(assignment[1], [...(current.get(assignment[1]) ?? []), assignment[2].trim()]);
  }
  return sections;
}

function directives(unit: UnitFile, section: string): Record<string, string[]> {
  return Object.fromEntries(unit.get(section) ?? []);
}

/** argv[0] of every Exec line, without systemd's prefixes (`-`, `@`, `+`, `!`, `:`). */
function executedPrograms(unit: UnitFile): string[] {
  return [...(unit.get('Service') ?? [])]
    .filter(([key]) => key.startsWith('Exec'))
    .flatMap(([, values]) => values)
    .map((value) => (value.split(/\s+/)[0] ?? '').replace(/^[-@+!:]+/, ''));
}

/** An executable file at `path`: verify only checks that the program exists and may be executed. */
async function writeStandIn(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, '#!/bin/sh\nexit 0\n');
  await chmod(path, 0o755);
}

function analyze(args: readonly string[]): Promise<ToolResult> {
  return runTool('systemd-analyze', args, { env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
}
