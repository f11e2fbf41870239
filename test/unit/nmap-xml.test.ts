import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ExporterError } from '../../src/errors.ts';
import { DEFAULT_MAX_BUFFERED_CHARS, NmapXmlStream, decodeXmlText, parseNmapXml } from '../../src/scan/nmap-xml.ts';
import type { NmapHost, NmapPort, NmapXmlEvent } from '../../src/scan/nmap-xml.ts';
import { createRandom } from '../support/random.ts';

/** Recorded with nmap 7.93; test/fixtures/nmap/README.md has the command behind each file. */
const COMPLETE_FIXTURES = [
  'single-host.xml',
  'many-hosts.xml',
  'ipv6.xml',
  'none-up.xml',
  'error-pcap.xml',
  'error-nse.xml',
  'error-early.xml',
  'progress.xml',
  'progress-early.xml',
  'top-ports.xml',
  'firewalled.xml',
] as const;

function readFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/nmap/${name}`, import.meta.url), 'utf8');
}

function feedInChunks(text: string, size: number): NmapXmlEvent[] {
  const offsets: number[] = [];
  for (let at = size; at < text.length; at += size) offsets.push(at);
  return feedAtSplits(text, offsets);
}

/** Pushes `text` cut at the given ascending offsets, then ends the stream. */
function feedAtSplits(text: string, offsets: readonly number[]): NmapXmlEvent[] {
  const stream = new NmapXmlStream();
  const events: NmapXmlEvent[] = [];
  let from = 0;
  for (const at of [...offsets, text.length]) {
    events.push(...stream.push(text.slice(from, at)));
    from = at;
  }
  events.push(...stream.end());
  return events;
}

/** Feeds in chunks until the stream throws; returns what it emitted before and the error. */
function feedUntilError(text: string, size: number): { events: NmapXmlEvent[]; error: unknown } {
  const stream = new NmapXmlStream();
  const events: NmapXmlEvent[] = [];
  try {
    for (let at = 0; at < text.length; at += size) events.push(...stream.push(text.slice(at, at + size)));
    events.push(...stream.end());
  } catch (error) {
    return { events, error };
  }
  assert.fail('expected the stream to throw');
}

function pickSplits(random: (limit: number) => number, length: number, count: number): number[] {
  const offsets = new Set<number>();
  for (let i = 0; i < count; i += 1) offsets.add(1 + random(Math.max(1, length - 1)));
  return [...offsets].sort((a, b) => a - b);
}

function hostsOf(events: readonly NmapXmlEvent[]): NmapHost[] {
  return events.flatMap((event) => (event.kind === 'host' ? [event.host] : []));
}

function withoutHosts(events: readonly NmapXmlEvent[]): NmapXmlEvent[] {
  return events.filter((event) => event.kind !== 'host');
}

function findFinished(events: readonly NmapXmlEvent[]): Extract<NmapXmlEvent, { kind: 'finished' }> {
  const finished = events.find((event) => event.kind === 'finished');
  assert.ok(finished !== undefined && finished.kind === 'finished', 'expected a finished event');
  return finished;
}

function outputInvalid(message: string): { code: string; message: string } {
  return { code: 'NMAP_OUTPUT_INVALID', message };
}

/** A port as a plain port scan (no -sV, no scripts) reports it. */
function tcp(port: number, state: string, service: string): NmapPort {
  return { port, protocol: 'tcp', state, service, ...NOT_PROBED };
}

const NOT_PROBED = { product: '', version: '', scripts: [] };

function finishedSuccess(up: number, total: number): NmapXmlEvent {
  return {
    kind: 'finished',
    exit: 'success',
    errorMessage: undefined,
    hostsUp: up,
    hostsDown: 0,
    hostsTotal: total,
    targetsSkipped: 0,
  };
}

/** Hand-written around nmap's shape, for what loopback cannot produce. */
const SYNTHETIC_HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n' +
  '<nmaprun scanner="nmap" args="nmap -v -oX - 127.0.0.5-6" start="1700000000" version="7.93" ' +
  'xmloutputversion="1.05">\n<scaninfo type="syn" protocol="tcp" numservices="1" services="22"/>\n' +
  '<verbose level="1"/>\n<debugging level="0"/>\n';
const SYNTHETIC_FOOTER =
  '<runstats><finished time="1700000001" elapsed="1.00" exit="success"/>' +
  '<hosts up="1" down="1" total="2"/>\n</runstats>\n</nmaprun>\n';

function buildSyntheticHost(ip: string, body = ''): string {
  return (
    `<host starttime="1700000000" endtime="1700000001"><status state="up" reason="syn-ack" reason_ttl="63"/>\n` +
    `<address addr="${ip}" addrtype="ipv4"/>\n<hostnames>\n</hostnames>\n${body}</host>\n`
  );
}

/**
 * A down host (nmap lists them with -v), a <hosthint> (written for hosts found up by host discovery before their
 * <host>), script, output and comment elements whose text mentions <host>, a MAC address, an SCTP port and
 * non-ASCII text (a surrogate pair included, so 1-character chunks split it).
 */
const SYNTHETIC_DOCUMENT =
  SYNTHETIC_HEADER +
  '<prescript><script id="broadcast-x" output="&lt;host&gt;"/></prescript>\n' +
  '<taskbegin task="ARP Ping Scan" time="1700000000"/>\n' +
  '<taskend task="ARP Ping Scan" time="1700000000" extrainfo="2 total hosts"/>\n' +
  '<hosthint><status state="up" reason="arp-response" reason_ttl="0"/>\n' +
  '<address addr="127.0.0.5" addrtype="ipv4"/>\n<address addr="02:42:AC:11:00:02" addrtype="mac"/>\n' +
  '<hostnames>\n</hostnames>\n</hosthint>\n' +
  '<host><status state="down" reason="no-response" reason_ttl="0"/>\n' +
  '<address addr="127.0.0.6" addrtype="ipv4"/>\n<hostnames>\n</hostnames>\n</host>\n' +
  '<!-- a comment that says <host> -->\n' +
  '<host starttime="1700000000" endtime="1700000001"><status state="up" reason="arp-response" reason_ttl="0"/>\n' +
  '<address addr="02:42:AC:11:00:02" addrtype="mac" vendor="Caf&#xe9; &amp; R&#x1F980;st"/>\n' +
  '<address addr="127.0.0.5" addrtype="ipv4"/>\n' +
  '<hostnames>\n<hostname name="db-1.example" type="PTR"/>\n</hostnames>\n' +
  '<ports><port protocol="sctp" portid="3868"><state state="open" reason="init-ack" reason_ttl="64"/>' +
  '<service name="diameter" method="table" conf="3"/></port>\n' +
  '<port protocol="tcp" portid="9200"><state state="open" reason="syn-ack" reason_ttl="64"/>' +
  '<service name="wap-wsp" method="table" conf="3"/><script id="banner" output="caf&#xe9; &lt;/host&gt;"/></port>\n' +
  '</ports>\n</host>\n' +
  '<output type="interactive">Nmap scan report for 127.0.0.5 &lt;/host&gt; café 🦀</output>\n' +
  '<postscript><script id="x" output="done"/></postscript>\n' +
  SYNTHETIC_FOOTER;

describe('parseNmapXml on recorded nmap 7.93 output', () => {
  it('reads every listed port of one host with its state and service', () => {
    const events = parseNmapXml(readFixture('single-host.xml'));
    assert.deepEqual(events, [
      {
        kind: 'run',
        version: '7.93',
        args: 'nmap -n -sS -sU -p T:22,80,443,2024,3306,6379,9200,47999,U:161,162 -oX - 127.77.0.1',
        startedAt: 1795700210000,
      },
      {
        kind: 'host',
        host: {
          ip: '127.77.0.1',
          family: 4,
          state: 'up',
          timedOut: false,
          answered: true,
          ports: [
            tcp(22, 'open', 'ssh'),
            tcp(80, 'open', 'http'),
            tcp(443, 'closed', 'https'),
            tcp(2024, 'open', 'xinuexpansion4'),
            tcp(3306, 'open', 'mysql'),
            tcp(6379, 'open', 'redis'),
            tcp(9200, 'open', 'wap-wsp'),
            tcp(47999, 'open', ''),
            { port: 161, protocol: 'udp', state: 'open|filtered', service: 'snmp', ...NOT_PROBED },
            { port: 162, protocol: 'udp', state: 'closed', service: 'snmptrap', ...NOT_PROBED },
          ],
        },
      },
      finishedSuccess(1, 1),
    ]);
  });

  it('emits each of many hosts in address order, leaving out ports folded into extraports', () => {
    const events = parseNmapXml(readFixture('many-hosts.xml'));
    const others = Array.from({ length: 23 }, (_, i) => ({
      ip: `127.77.0.${i + 2}`,
      family: 4,
      state: 'up',
      timedOut: false,
      answered: true,
      ports: [tcp(2024, 'open', 'xinuexpansion4')],
    }));
    assert.deepEqual(hostsOf(events), [
      {
        ip: '127.77.0.1',
        family: 4,
        state: 'up',
        timedOut: false,
        answered: true,
        ports: [tcp(22, 'open', 'ssh'), tcp(80, 'open', 'http'), tcp(2024, 'open', 'xinuexpansion4')],
      },
      ...others,
    ]);
    assert.deepEqual(withoutHosts(events), [
      { kind: 'run', version: '7.93', args: 'nmap -n -sT -p 1-100,2024 -oX - 127.77.0.1-24', startedAt: 1795700190000 },
      finishedSuccess(24, 24),
    ]);
  });

  it('reads an IPv6 host', () => {
    const events = parseNmapXml(readFixture('ipv6.xml'));
    assert.deepEqual(events, [
      { kind: 'run', version: '7.93', args: 'nmap -6 -n -sS -p 443,11211,27017 -oX - ::1', startedAt: 1795700190000 },
      {
        kind: 'host',
        host: {
          ip: '::1',
          family: 6,
          state: 'up',
          timedOut: false,
          answered: true,
          ports: [tcp(443, 'closed', 'https'), tcp(11211, 'open', 'memcache'), tcp(27017, 'open', 'mongod')],
        },
      },
      finishedSuccess(1, 1),
    ]);
  });

  it('counts targets nmap skipped for lack of a route, which it leaves out of its own total', () => {
    const events = parseNmapXml(readFixture('none-up.xml'));
    assert.deepEqual(events, [
      { kind: 'run', version: '7.93', args: 'nmap -n -sS -p 22,80 -oX - 127.0.0.1-3', startedAt: 1795700200000 },
      {
        kind: 'finished',
        exit: 'success',
        errorMessage: undefined,
        hostsUp: 0,
        hostsDown: 0,
        hostsTotal: 0,
        targetsSkipped: 3,
      },
    ]);
  });

  it('surfaces an error exit with its decoded message and the counters nmap wrote', () => {
    const events = parseNmapXml(readFixture('error-pcap.xml'));
    assert.equal(events.length, 2);
    assert.deepEqual(events[0], {
      kind: 'run',
      version: '7.93',
      args: 'nmap -n -sS -p 22,80 -oX - 127.0.0.1-3',
      startedAt: 1795700190000,
    });
    const finished = findFinished(events);
    assert.equal(finished.exit, 'error');
    assert.deepEqual(
      [finished.hostsUp, finished.hostsDown, finished.hostsTotal, finished.targetsSkipped],
      [3, 4294967293, 0, 0],
    );
    const lines = finished.errorMessage?.split('\n') ?? [];
    assert.equal(lines.length, 5);
    assert.equal(
      lines[0],
      'Call to pcap_open_live() failed three times. There are several possible reasons for this, depending on ' +
        'your operating system:',
    );
    assert.match(lines[2] ?? '', /MAKEDEV <device>; or use mknod\)\.$/);
    assert.match(lines[3] ?? '', /the --unprivileged command-line argument will help\.$/);
    assert.match(lines[4] ?? '', /'lo0: No DLPI device found', complain to Sun\. .* "-Pn -sT localhost"$/);
  });

  it('decodes newlines, tabs and quotes in an NSE error message and drops its trailing newline', () => {
    const events = parseNmapXml(readFixture('error-nse.xml'));
    assert.deepEqual(events, [
      {
        kind: 'run',
        version: '7.93',
        args: 'nmap -n -sS -p 22 --script nosuchscript-xyz -oX - 127.77.0.1',
        startedAt: 1795700191000,
      },
      {
        kind: 'finished',
        exit: 'error',
        errorMessage: [
          'NSE: failed to initialize the script engine:',
          "/usr/bin/../share/nmap/nse_main.lua:833: 'nosuchscript-xyz' did not match a category, filename, " +
            'or directory',
          'stack traceback:',
          "\t[C]: in function 'error'",
          "\t/usr/bin/../share/nmap/nse_main.lua:833: in local 'get_chosen_scripts'",
          '\t/usr/bin/../share/nmap/nse_main.lua:1344: in main chunk',
          '\t[C]: in ?',
        ].join('\n'),
        hostsUp: 0,
        hostsDown: 0,
        hostsTotal: 0,
        targetsSkipped: 0,
      },
    ]);
  });

  it('accepts the bare <nmaprun> nmap writes when it fails before its header, with no run event', () => {
    const events = parseNmapXml(readFixture('error-early.xml'));
    assert.deepEqual(events, [
      {
        kind: 'finished',
        exit: 'error',
        errorMessage: 'Failed to open exclude file /tmp/xmlfix/missing.txt for reading: No such file or directory (2)',
        hostsUp: 0,
        hostsDown: 0,
        hostsTotal: 0,
        targetsSkipped: 0,
      },
    ]);
  });

  it('emits progress with the exact task, percent and remaining seconds, before the host', () => {
    const events = parseNmapXml(readFixture('progress.xml'));
    assert.deepEqual(withoutHosts(events), [
      {
        kind: 'run',
        version: '7.93',
        args: 'nmap -n -v -sT -p 1-700 --scan-delay 5ms --stats-every 1s -oX - 127.77.0.1',
        startedAt: 1795700191000,
      },
      { kind: 'progress', task: 'Connect Scan', percent: 27.29, remainingSeconds: 3 },
      { kind: 'progress', task: 'Connect Scan', percent: 55.57, remainingSeconds: 2 },
      { kind: 'progress', task: 'Connect Scan', percent: 83.86, remainingSeconds: 1 },
      finishedSuccess(1, 1),
    ]);
    assert.deepEqual(
      events.map((event) => event.kind),
      ['run', 'progress', 'progress', 'progress', 'host', 'finished'],
    );
    assert.deepEqual(hostsOf(events), [
      {
        ip: '127.77.0.1',
        family: 4,
        state: 'up',
        timedOut: false,
        answered: true,
        ports: [tcp(22, 'open', 'ssh'), tcp(80, 'open', 'http')],
      },
    ]);
  });

  it('reads a default-size scan whose closed ports nmap lists in a 3.9 KB extrareasons attribute', () => {
    const text = readFixture('top-ports.xml');
    assert.ok(/<extrareasons reason="reset" count="996" proto="tcp" ports="[^"]{3800,}"\/>/.test(text));
    assert.deepEqual(parseNmapXml(text), [
      {
        kind: 'run',
        version: '7.93',
        args: 'nmap -n -sS --open --top-ports 1000 -oX - 127.0.0.1',
        startedAt: 1796159572000,
      },
      {
        kind: 'host',
        host: {
          ip: '127.0.0.1',
          family: 4,
          state: 'up',
          timedOut: false,
          answered: true,
          ports: [
            tcp(22, 'open', 'ssh'),
            tcp(80, 'open', 'http'),
            tcp(443, 'open', 'https'),
            tcp(873, 'open', 'rsync'),
          ],
        },
      },
      finishedSuccess(1, 1),
    ]);
  });

  it('tells the addresses behind a drop-all firewall from those that answered, in a scan without host discovery', () => {
    const hosts = hostsOf(parseNmapXml(readFixture('firewalled.xml')));
    assert.deepEqual(
      hosts.map((host) => `${host.ip} ${host.state} ${host.answered ? 'answered' : 'silent'}`),
      [
        '198.51.100.10 up answered',
        '198.51.100.12 up answered',
        '198.51.100.15 up silent',
        // A closed port is an answer: ssh admitted, nothing behind it.
        '198.51.100.17 up answered',
        '198.51.100.20 up silent',
      ],
    );
  });

  it("does not count a router's host-unreachable as an answer, nor an up host found by ping as silent", () => {
    const element = (status: string, reason: string): string =>
      `<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap" start="1700000000" version="7.93">` +
      `<host><status state="up" reason="${status}" reason_ttl="0"/><address addr="203.0.113.9" addrtype="ipv4"/>` +
      `<ports><extraports state="filtered" count="2"><extrareasons reason="${reason}" count="2" proto="tcp" ports="1-2"/></extraports></ports></host>` +
      `<runstats><finished time="1700000001" exit="success"/><hosts up="1" down="0" total="1"/></runstats></nmaprun>`;
    assert.equal(hostsOf(parseNmapXml(element('user-set', 'host-unreach')))[0]?.answered, false);
    assert.equal(hostsOf(parseNmapXml(element('user-set', 'reset')))[0]?.answered, true);
    assert.equal(hostsOf(parseNmapXml(element('echo-reply', 'no-response')))[0]?.answered, true);
  });

  it('leaves remainingSeconds undefined while nmap has no estimate, and marks a timed-out host', () => {
    const events = parseNmapXml(readFixture('progress-early.xml'));
    assert.deepEqual(
      events.filter((event) => event.kind === 'progress'),
      [0.06, 0.16, 0.26, 0.36, 0.46].map((percent) => ({
        kind: 'progress',
        task: 'Connect Scan',
        percent,
        remainingSeconds: undefined,
      })),
    );
    assert.deepEqual(hostsOf(events), [
      { ip: '127.77.0.1', family: 4, state: 'up', timedOut: true, answered: true, ports: [] },
    ]);
    assert.deepEqual(findFinished(events), finishedSuccess(1, 1));
  });
});

describe('NmapXmlStream chunking', () => {
  for (const name of COMPLETE_FIXTURES) {
    it(`gives the same events for ${name} whatever the chunk size or split points`, () => {
      const text = readFixture(name);
      const whole = parseNmapXml(text);
      assert.ok(whole.length >= 1);
      for (const size of [1, 7, 4096]) {
        assert.deepEqual(feedInChunks(text, size), whole, `chunks of ${size}`);
      }
      const random = createRandom(text.length);
      for (let round = 0; round < 25; round += 1) {
        const splits = pickSplits(random, text.length, 1 + random(12));
        assert.deepEqual(feedAtSplits(text, splits), whole, `split at ${splits.join(',')}`);
      }
    });
  }

  it('gives the same events for a document with hosthint, a down host, scripts, comments and non-ASCII text', () => {
    const whole = parseNmapXml(SYNTHETIC_DOCUMENT);
    for (const size of [1, 7, 4096]) {
      assert.deepEqual(feedInChunks(SYNTHETIC_DOCUMENT, size), whole, `chunks of ${size}`);
    }
    const random = createRandom(42);
    for (let round = 0; round < 25; round += 1) {
      const splits = pickSplits(random, SYNTHETIC_DOCUMENT.length, 1 + random(12));
      assert.deepEqual(feedAtSplits(SYNTHETIC_DOCUMENT, splits), whole, `split at ${splits.join(',')}`);
    }
  });
});

describe('NmapXmlStream on elements loopback cannot produce', () => {
  it('skips hosthint, pre- and postscripts, output and comments, reads port scripts, and emits down hosts with their state', () => {
    const events = parseNmapXml(SYNTHETIC_DOCUMENT);
    assert.deepEqual(events, [
      { kind: 'run', version: '7.93', args: 'nmap -v -oX - 127.0.0.5-6', startedAt: 1700000000000 },
      {
        kind: 'host',
        host: { ip: '127.0.0.6', family: 4, state: 'down', timedOut: false, answered: false, ports: [] },
      },
      {
        kind: 'host',
        host: {
          ip: '127.0.0.5',
          family: 4,
          state: 'up',
          timedOut: false,
          answered: true,
          ports: [
            { port: 3868, protocol: 'sctp', state: 'open', service: 'diameter', ...NOT_PROBED },
            { ...tcp(9200, 'open', 'wap-wsp'), scripts: [{ id: 'banner', output: 'caf\u00e9 </host>' }] },
          ],
        },
      },
      {
        kind: 'finished',
        exit: 'success',
        errorMessage: undefined,
        hostsUp: 1,
        hostsDown: 1,
        hostsTotal: 2,
        targetsSkipped: 0,
      },
    ]);
  });
});

describe('NmapXmlStream errors', () => {
  it('rejects a truncated document at end(), after emitting the hosts before the cut', () => {
    const text = readFixture('truncated.xml');
    const expectedIps = ['127.77.0.1', '127.77.0.2', '127.77.0.3', '127.77.0.4', '127.77.0.5'];
    const message = 'nmap output ended before </nmaprun> (5 hosts parsed, cut inside <host>)';
    for (const size of [1, 7, 4096]) {
      const stream = new NmapXmlStream();
      const events: NmapXmlEvent[] = [];
      for (let at = 0; at < text.length; at += size) events.push(...stream.push(text.slice(at, at + size)));
      assert.deepEqual(
        hostsOf(events).map((host) => host.ip),
        expectedIps,
        `chunks of ${size}`,
      );
      assert.equal(stream.hostsParsed, 5);
      assert.throws(() => stream.end(), outputInvalid(message));
    }
  });

  it('rejects output that is not XML, quoting its first line', () => {
    assert.throws(
      () => parseNmapXml('Segmentation fault (core dumped)\n'),
      outputInvalid('nmap output is not XML: "Segmentation fault (core dumped)"'),
    );
  });

  it('quotes at most 40 characters of garbage, the same for every chunk size', () => {
    const text = 'Starting Nmap 7.93 ( https://nmap.org ) at 2026-11-26 13:00 UTC\nNmap scan report for x\n';
    const message = 'nmap output is not XML: "Starting Nmap 7.93 ( https://nmap.org ) "...';
    for (const size of [1, 7, 4096]) {
      const { events, error } = feedUntilError(text, size);
      assert.deepEqual(events, []);
      assert.ok(error instanceof ExporterError);
      assert.deepEqual({ code: error.code, message: error.message }, outputInvalid(message));
    }
  });

  it('quotes garbage cut short by the end of output', () => {
    const stream = new NmapXmlStream();
    assert.deepEqual(stream.push('Killed'), []);
    assert.throws(() => stream.end(), outputInvalid('nmap output is not XML: "Killed"'));
  });

  it('rejects garbage between hosts after emitting the hosts before it', () => {
    const full = readFixture('many-hosts.xml');
    const cut = full.indexOf('<host ', full.indexOf('addr="127.77.0.3"'));
    const stream = new NmapXmlStream();
    const events = stream.push(full.slice(0, cut));
    assert.deepEqual(
      hostsOf(events).map((host) => host.ip),
      ['127.77.0.1', '127.77.0.2', '127.77.0.3'],
    );
    assert.throws(
      () => stream.push('free(): invalid pointer\nAborted\n'),
      outputInvalid('nmap output is not XML: "free(): invalid pointer"'),
    );
  });

  it('rejects a document that does not start with <nmaprun> as soon as the first tag name is known', () => {
    const stream = new NmapXmlStream();
    assert.deepEqual(stream.push('<?xml version="1.0"?>\n'), []);
    assert.throws(
      () => stream.push('<html><body>'),
      outputInvalid('nmap output does not start with <nmaprun>: found <html>'),
    );
  });

  it('rejects empty output', () => {
    assert.throws(() => parseNmapXml(''), outputInvalid('nmap output is empty or has no <nmaprun>'));
    assert.throws(() => parseNmapXml(' \n'), outputInvalid('nmap output is empty or has no <nmaprun>'));
  });

  it('rejects a document without <runstats>', () => {
    const text = readFixture('single-host.xml').replace(/<runstats>[\s\S]*<\/runstats>\n/, '');
    assert.throws(() => parseNmapXml(text), outputInvalid('nmap output has no <runstats>'));
  });

  it('rejects anything after </nmaprun>', () => {
    const text = `${readFixture('single-host.xml')}<nmaprun>`;
    assert.throws(() => parseNmapXml(text), outputInvalid('nmap output continues after </nmaprun>'));
  });

  it('rejects a stray end tag between elements', () => {
    const text = readFixture('single-host.xml').replace('<runstats>', '</ports><runstats>');
    assert.throws(() => parseNmapXml(text), outputInvalid('nmap output has unexpected </ports> after 1 host'));
  });

  it('rejects a host element that is not well-formed, naming the host and the fault', () => {
    const text = readFixture('many-hosts.xml').replace(
      '<port protocol="tcp" portid="2024"><state state="open" reason="syn-ack" reason_ttl="0"/>' +
        '<service name="xinuexpansion4" method="table" conf="3"/></port>\n</ports>',
      '<port protocol="tcp" portid="2024"><state state="open" reason="syn-ack" reason_ttl="0"/>' +
        '<service name="xinuexpansion4" method="table" conf="3"/>\n</ports>',
    );
    assert.notEqual(text, readFixture('many-hosts.xml'));
    assert.throws(
      () => parseNmapXml(text),
      outputInvalid(
        "nmap output has a malformed <host> #1: Expected closing tag 'port' (opened in line 10, col 1) " +
          "instead of closing tag 'ports'.",
      ),
    );
  });

  it('rejects a host element with an unquoted attribute', () => {
    const text = readFixture('single-host.xml').replace('portid="80"', 'portid=80');
    assert.throws(
      () => parseNmapXml(text),
      outputInvalid("nmap output has a malformed <host> #1: Attribute 'portid' is without value."),
    );
  });

  it('rejects malformed markup inside the elements of a host it does not keep', () => {
    const text = readFixture('top-ports.xml');
    assert.throws(
      () => parseNmapXml(text.replace('proto="tcp" ports="1,3-4', 'proto=tcp ports="1,3-4')),
      outputInvalid("nmap output has a malformed <host> #1: Attribute 'proto' is without value."),
    );
    assert.throws(
      () => parseNmapXml(text.replace('</extraports>', '</extrareasons>')),
      outputInvalid(
        "nmap output has a malformed <host> #1: Expected closing tag 'extraports' (opened in line 5, col 8) " +
          "instead of closing tag 'extrareasons'.",
      ),
    );
    assert.throws(
      () => parseNmapXml(text.replace('<times srtt="13"', '<times srtt="1&3"')),
      outputInvalid('nmap output has a malformed <host> #1: Invalid entity reference in line 13, col 15.'),
    );
  });

  it('rejects a malformed <nmaprun> start tag and a malformed <runstats>', () => {
    const text = readFixture('ipv6.xml');
    assert.throws(
      () => parseNmapXml(text.replace('version="7.93"', 'version="7.93" version="7.94"')),
      outputInvalid("nmap output has a malformed <nmaprun>: Attribute 'version' is repeated."),
    );
    assert.throws(
      () => parseNmapXml(text.replace('<hosts up="1"', '<hosts up=1')),
      outputInvalid("nmap output has a malformed <runstats>: Attribute 'up' is without value."),
    );
  });

  it('rejects a host without an IP address', () => {
    const text = readFixture('single-host.xml').replace('addr="127.77.0.1" addrtype="ipv4"', 'addr="x" addrtype="mac"');
    assert.throws(() => parseNmapXml(text), outputInvalid('nmap output has no IP address in <host> #1'));
  });

  it('rejects a port number that is not a number or out of range', () => {
    const single = readFixture('single-host.xml');
    assert.throws(
      () => parseNmapXml(single.replace('portid="80"', 'portid="0x50"')),
      outputInvalid('nmap output has portid="0x50" in <host> #1, expected a number'),
    );
    assert.throws(
      () => parseNmapXml(single.replace('portid="80"', 'portid="65536"')),
      outputInvalid('nmap output has port number 65536 in <host> #1'),
    );
  });

  it('rejects a protocol the exporter does not scan', () => {
    const text = readFixture('single-host.xml').replace('protocol="tcp" portid="80"', 'protocol="ip" portid="80"');
    assert.throws(() => parseNmapXml(text), outputInvalid('nmap output has unsupported protocol "ip" in <host> #1'));
  });

  it('rejects a progress element without a numeric percent', () => {
    const text = readFixture('progress.xml').replace('percent="55.57"', 'percent=""');
    assert.throws(
      () => parseNmapXml(text),
      outputInvalid('nmap output has percent="" in <taskprogress> after 0 hosts, expected a number'),
    );
  });

  it('throws a plain Error when used after end()', () => {
    const stream = new NmapXmlStream();
    stream.push(readFixture('ipv6.xml'));
    assert.equal(stream.end().length, 0);
    assert.throws(() => stream.push('<host>'), { name: 'Error', message: 'NmapXmlStream.push() called after end()' });
  });
});

describe('NmapXmlStream memory cap', () => {
  const header = readFixture('single-host.xml').slice(0, readFixture('single-host.xml').indexOf('<host '));

  it('accepts an element just under the cap and rejects an unfinished one over it', () => {
    const host = buildSyntheticHost('127.0.0.9', `<!-- ${'x'.repeat(700)} -->\n`);
    assert.ok(host.length < 1000);
    const small = new NmapXmlStream({ maxBufferedChars: 1000 });
    small.push(header);
    assert.deepEqual(
      hostsOf(small.push(host)).map((parsed) => parsed.ip),
      ['127.0.0.9'],
    );

    const big = new NmapXmlStream({ maxBufferedChars: 1000 });
    big.push(header);
    big.push('<host starttime="1" endtime="2">');
    assert.throws(
      () => big.push(`<!-- ${'x'.repeat(1000)}`),
      outputInvalid('nmap output has over 1000 characters of unfinished <host> (0 hosts parsed)'),
    );
  });

  it('caps an unfinished element at 8 MiB by default, whatever the chunk size', () => {
    assert.equal(DEFAULT_MAX_BUFFERED_CHARS, 8 * 1024 * 1024);
    const stream = new NmapXmlStream();
    stream.push(header);
    stream.push('<host starttime="1" endtime="2">');
    const mebibyte = ' '.repeat(1024 * 1024);
    for (let i = 0; i < 7; i += 1) stream.push(mebibyte);
    assert.ok(stream.bufferedLength > 7 * 1024 * 1024);
    assert.throws(
      () => stream.push(mebibyte),
      outputInvalid('nmap output has over 8388608 characters of unfinished <host> (0 hosts parsed)'),
    );
  });
});

describe('NmapXmlStream against entity attacks', () => {
  const PORT = '<ports><port protocol="tcp" portid="22"><state state="open"/><service name="&lol9;"/></port></ports>';

  /** A one-host document whose service name refers to `&lol9;`, after the given DOCTYPE. */
  function buildDocument(doctype: string, body = ''): string {
    const header = SYNTHETIC_HEADER.replace('<!DOCTYPE nmaprun>', doctype);
    return header + buildSyntheticHost('127.0.0.5', body + PORT) + SYNTHETIC_FOOTER;
  }

  it('refuses a DOCTYPE that declares entities (billion laughs, external entities) before <nmaprun>', () => {
    const laughs =
      '<!DOCTYPE nmaprun [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n' +
      ' <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>';
    assert.throws(
      () => parseNmapXml(buildDocument(laughs)),
      outputInvalid('nmap output does not start with <nmaprun>: found <!ENTITY>'),
    );
    assert.throws(
      () => parseNmapXml(buildDocument('<!DOCTYPE nmaprun [<!ENTITY lol9 SYSTEM "file:///etc/passwd">]>')),
      outputInvalid('nmap output is not XML: "]>"'),
    );
  });

  it('refuses a DOCTYPE inside a host', () => {
    assert.throws(
      () => parseNmapXml(buildDocument('<!DOCTYPE nmaprun>', '<!DOCTYPE host [<!ENTITY lol9 "lol">]>\n')),
      outputInvalid('nmap output has a malformed <host> #1: Unexpected <! in line 5, col 1.'),
    );
  });

  it('leaves a reference to an undeclared entity as written', () => {
    const ports = hostsOf(parseNmapXml(buildDocument('<!DOCTYPE nmaprun>')))[0]?.ports;
    assert.deepEqual(ports, [tcp(22, 'open', '&lol9;')]);
  });
});

describe('decodeXmlText', () => {
  it('decodes the XML names and numeric references nmap writes, once', () => {
    assert.equal(decodeXmlText('nmap -&#45;stats-every 1s'), 'nmap --stats-every 1s');
    assert.equal(decodeXmlText('a&#xa;&#x9;b &#233; &#x1F980;'), 'a\n\tb é 🦀');
    assert.equal(decodeXmlText('&lt;&gt;&amp;&quot;&apos;'), '<>&"\'');
    assert.equal(decodeXmlText('&amp;#45;'), '&#45;');
  });

  it('leaves unknown names and impossible code points as written', () => {
    assert.equal(decodeXmlText('&nbsp; &#x110000; & x'), '&nbsp; &#x110000; & x');
  });
});

/** A host as nmap writes it for a SYN scan of the top 1000 ports; every fifth one has redis open. */
function buildLargeHost(index: number): { ip: string; text: string } {
  const ip = `127.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
  const redis =
    index % 5 === 0
      ? '<port protocol="tcp" portid="6379"><state state="open" reason="syn-ack" reason_ttl="63"/>' +
        '<service name="redis" method="table" conf="3"/></port>\n'
      : '';
  const text =
    `<host starttime="1700000000" endtime="1700000042"><status state="up" reason="echo-reply" reason_ttl="63"/>\n` +
    `<address addr="${ip}" addrtype="ipv4"/>\n<hostnames>\n</hostnames>\n` +
    '<ports><extraports state="filtered" count="998">\n' +
    '<extrareasons reason="no-response" count="998" proto="tcp" ports="1-21,23-79,81-1000"/>\n</extraports>\n' +
    '<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="63"/>' +
    '<service name="ssh" method="table" conf="3"/></port>\n' +
    redis +
    '</ports>\n<times srtt="1043" rttvar="211" to="100000"/>\n</host>\n';
  return { ip, text };
}

describe('NmapXmlStream on a 20,000-host scan', () => {
  const hostCount = 20_000;
  const chunkSize = 64 * 1024;
  const header = readFixture('many-hosts.xml').slice(0, readFixture('many-hosts.xml').indexOf('<host '));
  const hosts = Array.from({ length: hostCount }, (_, i) => buildLargeHost(i + 1));
  const footer =
    '<runstats><finished time="1700001000" elapsed="1000.00" exit="success"/>' +
    `<hosts up="${hostCount}" down="0" total="${hostCount}"/>\n</runstats>\n</nmaprun>\n`;
  const document = header + hosts.map((host) => host.text).join('') + footer;
  const longestHost = Math.max(...hosts.map((host) => host.text.length));

  /** Offset just past each `</host>`, i.e. the length of text a stream needs to emit that host. */
  const hostEnds: number[] = [];
  let offset = header.length;
  for (const host of hosts) {
    offset += host.text.length;
    hostEnds.push(offset);
  }

  it('emits each host in the push that completes it and keeps at most one unfinished host', () => {
    const stream = new NmapXmlStream();
    let emitted = 0;
    let maxBuffered = 0;
    for (let start = 0; start < document.length; start += chunkSize) {
      const events = stream.push(document.slice(start, start + chunkSize));
      const received = start + chunkSize;
      const expected = hosts.filter((_, i) => {
        const end = hostEnds[i] ?? Number.POSITIVE_INFINITY;
        return end > start && end <= received;
      });
      assert.deepEqual(
        hostsOf(events).map((host) => host.ip),
        expected.map((host) => host.ip),
        `push at offset ${start}`,
      );
      emitted += expected.length;
      maxBuffered = Math.max(maxBuffered, stream.bufferedLength);
      assert.ok(stream.bufferedLength < longestHost, `buffered ${stream.bufferedLength} after offset ${start}`);
    }
    assert.equal(emitted, hostCount);
    assert.equal(stream.hostsParsed, hostCount);
    assert.ok(maxBuffered > 0);
    assert.deepEqual(stream.end(), []);
  });

  it('reads every host and port of the document', () => {
    assert.ok(document.length > DEFAULT_MAX_BUFFERED_CHARS, 'the document is larger than the element cap');
    const events = parseNmapXml(document);
    const parsed = hostsOf(events);
    assert.equal(parsed.length, hostCount);
    assert.deepEqual(parsed[4], {
      ip: '127.0.0.5',
      family: 4,
      state: 'up',
      timedOut: false,
      answered: true,
      ports: [tcp(22, 'open', 'ssh'), tcp(6379, 'open', 'redis')],
    });
    assert.deepEqual(parsed[hostCount - 1]?.ip, '127.0.78.32');
    assert.equal(parsed.filter((host) => host.ports.some((port) => port.port === 6379)).length, hostCount / 5);
    assert.deepEqual(findFinished(events), finishedSuccess(hostCount, hostCount));
  });
});
