/**
 * --once prints a report of megabytes to whatever reads its stdout, and a pipe takes only 64 KiB at a time.
 * The exporter must not exit before a slow reader (`exposure-exporter --once | jq`) has taken all of it.
 * The scan is a replay: a fake nmap, named by the config, answers the start-up probes and then prints a
 * generated nmap 7.93 report of 3,000 hosts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;
const HOSTS = 3000;
/** The slow reader takes this much every READ_EVERY_MS: about 3 s for the whole report. */
const READ_BYTES = 16 * 1024;
const READ_EVERY_MS = 10;
const RUN_DEADLINE_MS = 120_000;

/** The address of host i of 198.18.0.0/17, a benchmarking range nothing answers on (nothing is scanned here). */
function addressOf(index: number): string {
  const offset = index + 1;
  return `198.18.${offset >> 8}.${offset & 255}`;
}

/** nmap's -oX output for HOSTS up hosts with two open ports each, the shape of test/fixtures/nmap/single-host.xml. */
function renderReplay(): string {
  const hosts = Array.from(
    { length: HOSTS },
    (_, i) =>
      `<host starttime="1795700210" endtime="1795700211"><status state="up" reason="syn-ack" reason_ttl="63"/>\n` +
      `<address addr="${addressOf(i)}" addrtype="ipv4"/>\n<hostnames>\n</hostnames>\n` +
      '<ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="63"/><service name="ssh" method="table" conf="3"/></port>\n' +
      '<port protocol="tcp" portid="6379"><state state="open" reason="syn-ack" reason_ttl="63"/><service name="redis" method="table" conf="3"/></port>\n' +
      '</ports>\n<times srtt="20" rttvar="518" to="100000"/>\n</host>\n',
  );
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n' +
    '<nmaprun scanner="nmap" args="nmap -sS -n --open -p 22,6379 -oX - -iL -" start="1795700210" startstr="Thu Nov 26 13:36:50 2026" version="7.93" xmloutputversion="1.05">\n' +
    '<scaninfo type="syn" protocol="tcp" numservices="2" services="22,6379"/>\n<verbose level="0"/>\n<debugging level="0"/>\n' +
    hosts.join('') +
    '<runstats><finished time="1795700211" timestr="Thu Nov 26 13:36:51 2026" summary="" elapsed="1.32" exit="success"/>' +
    `<hosts up="${HOSTS}" down="0" total="${HOSTS}"/>\n</runstats>\n</nmaprun>\n`
  );
}

/** Runs the exporter with its stdout read READ_BYTES at a time; resolves with the exit code and all of stdout. */
function runWithSlowReader(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const chunks: Buffer[] = [];
  let ended = false;
  child.stdout.on('end', () => (ended = true));
  // A 'readable' listener keeps the stream paused for read(): without one, Node resumes the stream of a child
  // that has exited, and what this reader had not taken yet would flow away unread.
  child.stdout.on('readable', () => {});
  const reading = (async () => {
    while (!ended) {
      // Paused mode: read() takes from what the stream has buffered, so at most READ_BYTES per turn.
      const chunk = (child.stdout.read(READ_BYTES) ?? child.stdout.read()) as Buffer | null;
      if (chunk) chunks.push(chunk);
      await sleep(READ_EVERY_MS);
    }
  })();
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const deadline = sleep(RUN_DEADLINE_MS).then(() => {
    child.kill('SIGKILL');
    throw new Error(`the exporter did not finish within ${RUN_DEADLINE_MS} ms: ${stderr}`);
  });
  return Promise.race([Promise.all([closed, reading]), deadline]).then(([code]) => ({
    code,
    stdout: Buffer.concat(chunks).toString('utf8'),
    stderr,
  }));
}

describe('--once output', () => {
  let dir = '';
  let config = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-once-output-'));
    const replay = join(dir, 'nmap-report.xml');
    await writeFile(replay, renderReplay());
    const nmap = join(dir, 'nmap');
    // --version and the capability probe (-sn, targets on stdin) answer at once; a scan reads its targets
    // and then prints the replay.
    await writeFile(
      nmap,
      '#!/bin/sh\nfor arg in "$@"; do\n  case "$arg" in\n' +
        "    --version|-V) echo 'Nmap version 7.93 ( https://nmap.org )'; exit 0 ;;\n" +
        '    -sn) exec cat >/dev/null ;;\n  esac\ndone\ncat >/dev/null\n' +
        `exec cat '${replay}'\n`,
    );
    await chmod(nmap, 0o755);
    config = join(dir, 'config.yml');
    await writeFile(
      config,
      `scan:\n  targets: ["198.18.0.0/17"]\n  ports: "22,6379"\n  nmap:\n    path: ${JSON.stringify(nmap)}\n` +
        `state:\n  path: ${JSON.stringify(join(dir, 'state.json'))}\n`,
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a slow reader of stdout gets the whole report, megabytes of it, and the exit code after it', async () => {
    const { code, stdout, stderr } = await runWithSlowReader(['--once', `--config.file=${config}`, '--log.level=warn']);
    assert.equal(code, 0, stderr);
    assert.ok(stdout.length > 1_500_000, `the report is ${stdout.length} characters, well past a pipe's 64 KiB`);
    assert.ok(stdout.endsWith('}\n'), `the report ends with ${JSON.stringify(stdout.slice(-40))}`);
    const report = JSON.parse(stdout) as {
      hosts: { ip: string; ports: { port: number }[] }[];
      summary: { open_ports: number };
    };
    assert.equal(report.hosts.length, HOSTS);
    assert.equal(report.summary.open_ports, 2 * HOSTS);
    const last = report.hosts.at(-1);
    assert.deepEqual([last?.ip, last?.ports.map((port) => port.port)], [addressOf(HOSTS - 1), [22, 6379]]);
  });

  it('a reader that goes away early makes --once exit 1 and say so, instead of dying on EPIPE', async () => {
    const child = spawn(
      process.execPath,
      [MAIN, '--once', `--config.file=${config}`, '--log.level=warn', '--log.format=json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('close', (exit) => resolve(exit)));
    assert.equal(code, 1, stderr);
    const logged = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; err?: { code?: string } });
    assert.deepEqual(
      logged.filter((entry) => entry.msg === 'cannot write the report to stdout').map((entry) => entry.err?.code),
      ['EPIPE'],
    );
  });
});
