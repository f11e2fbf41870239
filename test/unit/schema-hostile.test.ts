/**
 * Hostile and careless configs: wrong types, values just past each limit, and text that tries to reach nmap's
 * command line or the log. Each is pinned to the exact problems parseConfig reports, so a change of wording
 * or a value that slips through shows up here. The plain mistakes are in schema.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/schema.ts';

const EXPECTED_TOP =
  'expected one of scan, standard_ports, severity_overrides, exceptions, openstack, inventory_file, state, history';
const DURATION_HINT = 'is not a valid duration (use Prometheus syntax such as 30s, 10m, 1h)';
const LONGEST_DURATION = 'is longer than the longest supported duration, 3w3d20h31m23s647ms';
const PORTS_HINT = '(or use default or all)';

/** An exception around `match`, every other key valid, so only the match is in question. */
function exceptionWith(match: string): string {
  return `exceptions:\n  - {name: a, match: ${match}, reason: r, expires: 2027-01-01}\n`;
}

/** Each hostile config and the exact problems it must produce, in order. */
const HOSTILE: readonly { name: string; yaml: string; problems: readonly string[] }[] = [
  // Wrong types where a mapping, a list, a string or a number belongs.
  { name: 'a scan block that is a number', yaml: 'scan: 5\n', problems: ['scan: must be a mapping, got a number (5)'] },
  {
    name: 'an nmap block that is a list',
    yaml: 'scan:\n  nmap: [syn]\n',
    problems: ['scan.nmap: must be a mapping, got a list'],
  },
  {
    name: 'targets of every wrong scalar type',
    yaml: 'scan:\n  targets: [1, true, null, [10.0.0.1]]\n',
    problems: [
      'scan.targets[0]: must be a string, got a number (1)',
      'scan.targets[1]: must be a string, got boolean (true)',
      'scan.targets[2]: must be a string, got null',
      'scan.targets[3]: must be a string, got a list',
    ],
  },
  {
    name: 'a port list written as a YAML list',
    yaml: 'scan:\n  ports: [22, 80]\n',
    problems: ['scan.ports: must be a string, got a list'],
  },
  {
    name: 'a port list that is a boolean',
    yaml: 'scan:\n  ports: true\n',
    problems: ['scan.ports: must be a string, got boolean (true)'],
  },
  {
    name: 'max_targets as a quoted number',
    yaml: 'scan:\n  max_targets: "100"\n',
    problems: ['scan.max_targets: "100" must be an integer from 1 to 16777216'],
  },
  {
    name: 'a timing template as a boolean',
    yaml: 'scan:\n  nmap:\n    timing_template: true\n',
    problems: ['scan.nmap.timing_template: boolean (true) must be an integer from 0 to 5'],
  },
  {
    name: 'host discovery as 1',
    yaml: 'scan:\n  nmap:\n    host_discovery: 1\n',
    problems: ['scan.nmap.host_discovery: a number (1) must be true or false'],
  },
  {
    name: 'an nmap path that is a number',
    yaml: 'scan:\n  nmap:\n    path: 5\n',
    problems: ['scan.nmap.path: must be a string, got a number (5)'],
  },
  {
    name: 'a shard written as a bare number',
    yaml: 'scan:\n  shard: 3\n',
    problems: ['scan.shard: must be a string, got a number (3)'],
  },
  {
    name: 'standard ports given as one string',
    yaml: 'standard_ports: "22/tcp"\n',
    problems: ['standard_ports: must be a list of strings, got a string ("22/tcp")'],
  },
  {
    name: 'severity overrides given as a list',
    yaml: 'severity_overrides: ["8080/tcp"]\n',
    problems: ['severity_overrides: must be a mapping, got a list'],
  },
  {
    name: 'a severity that is a number',
    yaml: 'severity_overrides: {"22/tcp": 1}\n',
    problems: ['severity_overrides["22/tcp"]: a number (1) must be one of critical, high, medium, low'],
  },
  {
    name: 'exceptions given as a mapping',
    yaml: 'exceptions: {a: 1}\n',
    problems: ['exceptions: must be a list, got a mapping'],
  },
  {
    name: 'an exception that is null',
    yaml: 'exceptions:\n  - null\n',
    problems: ['exceptions[0]: must be a mapping, got null'],
  },
  {
    name: 'an openstack block that is a number',
    yaml: 'openstack: 5\n',
    problems: ['openstack: must be a mapping, got a number (5)'],
  },
  {
    name: 'a state block that is a string',
    yaml: 'state: data\n',
    problems: ['state: must be a mapping, got a string ("data")'],
  },

  // Integers out of range, fractional, or not finite.
  {
    name: 'max_targets of 0',
    yaml: 'scan:\n  max_targets: 0\n',
    problems: ['scan.max_targets: a number (0) must be an integer from 1 to 16777216'],
  },
  {
    name: 'max_targets one past the limit',
    yaml: 'scan:\n  max_targets: 16777217\n',
    problems: ['scan.max_targets: a number (16777217) must be an integer from 1 to 16777216'],
  },
  {
    name: 'a fractional max_targets',
    yaml: 'scan:\n  max_targets: 1.5\n',
    problems: ['scan.max_targets: a number (1.5) must be an integer from 1 to 16777216'],
  },
  {
    name: 'a max_targets past any integer',
    yaml: 'scan:\n  max_targets: 99999999999999999999\n',
    problems: ['scan.max_targets: a number (100000000000000000000) must be an integer from 1 to 16777216'],
  },
  {
    name: 'max_retries past 50',
    yaml: 'scan:\n  nmap:\n    max_retries: 51\n',
    problems: ['scan.nmap.max_retries: a number (51) must be an integer from 0 to 50'],
  },
  {
    name: 'a negative min_rate',
    yaml: 'scan:\n  nmap:\n    min_rate: -1\n',
    problems: ['scan.nmap.min_rate: a number (-1) must be an integer from 0 to 1000000'],
  },
  {
    name: 'a timing template of .nan',
    yaml: 'scan:\n  nmap:\n    timing_template: .nan\n',
    problems: ['scan.nmap.timing_template: a number (NaN) must be an integer from 0 to 5'],
  },
  {
    name: 'a timing template of .inf',
    yaml: 'scan:\n  nmap:\n    timing_template: .inf\n',
    problems: ['scan.nmap.timing_template: a number (Infinity) must be an integer from 0 to 5'],
  },

  // Durations Prometheus refuses, and ones too long to be a timer.
  {
    name: 'a negative duration',
    yaml: 'scan:\n  interval: -1h\n',
    problems: [`scan.interval: "-1h" ${DURATION_HINT}`],
  },
  {
    name: 'a negative bare number as a duration',
    yaml: 'scan:\n  timeout: -1\n',
    problems: [`scan.timeout: a number (-1) ${DURATION_HINT}`],
  },
  {
    name: 'minutes written without their unit (1h30)',
    yaml: 'scan:\n  interval: 1h30\n',
    problems: [`scan.interval: "1h30" ${DURATION_HINT}`],
  },
  {
    name: 'microseconds, which Prometheus does not know',
    yaml: 'scan:\n  interval: 1us\n',
    problems: [`scan.interval: "1us" ${DURATION_HINT}`],
  },
  {
    name: 'nanoseconds, which Prometheus does not know',
    yaml: 'openstack:\n  request_timeout: 100ns\n',
    problems: [`openstack.request_timeout: "100ns" ${DURATION_HINT}`],
  },
  {
    name: 'a fractional duration',
    yaml: 'openstack:\n  request_timeout: 1.5s\n',
    problems: [`openstack.request_timeout: "1.5s" ${DURATION_HINT}`],
  },
  {
    name: 'units largest last',
    yaml: 'scan:\n  interval: 30m1h\n',
    problems: [`scan.interval: "30m1h" ${DURATION_HINT}`],
  },
  {
    name: 'a duration with a trailing space',
    yaml: 'scan:\n  interval: "1h "\n',
    problems: [`scan.interval: "1h " ${DURATION_HINT}`],
  },
  { name: 'an empty duration', yaml: 'scan:\n  interval: ""\n', problems: [`scan.interval: "" ${DURATION_HINT}`] },
  {
    name: 'a duration past what a number holds',
    yaml: 'scan:\n  interval: 99999999999999y\n',
    problems: [`scan.interval: "99999999999999y" ${DURATION_HINT}`],
  },
  {
    name: 'an interval one millisecond past the longest timer',
    yaml: 'scan:\n  interval: 24d20h31m23s648ms\n',
    problems: [`scan.interval: "24d20h31m23s648ms" ${LONGEST_DURATION}`],
  },
  {
    name: 'a 30-day interval, which Node would fire at once',
    yaml: 'scan:\n  interval: 30d\n  timeout: 1h\n',
    problems: [`scan.interval: "30d" ${LONGEST_DURATION}`],
  },
  {
    name: 'a yearly OpenStack refresh',
    yaml: 'openstack:\n  refresh_interval: 1y\n',
    problems: [`openstack.refresh_interval: "1y" ${LONGEST_DURATION}`],
  },
  {
    name: 'an interval of 0s, which also leaves no room for the timeout',
    yaml: 'scan:\n  interval: 0s\n',
    problems: [
      'scan.interval: must be longer than 0s',
      'scan.timeout: 50m must be longer than 0s and shorter than scan.interval (0s)',
    ],
  },
  {
    name: 'a timeout of 0',
    yaml: 'scan:\n  interval: 1d\n  timeout: 0\n',
    problems: ['scan.timeout: 0s must be longer than 0s and shorter than scan.interval (1d)'],
  },
  {
    name: 'an OpenStack refresh interval of 0s',
    yaml: 'openstack:\n  refresh_interval: 0s\n',
    problems: ['openstack.refresh_interval: must be longer than 0s'],
  },

  // CIDRs and addresses just outside the syntax.
  {
    name: 'an IPv6 prefix past 128',
    yaml: 'scan:\n  targets: ["2001:db8::/129"]\n',
    problems: ['scan.targets[0]: "2001:db8::/129" is not a valid CIDR'],
  },
  {
    name: 'a prefix length with a leading zero',
    yaml: 'scan:\n  targets: ["10.0.0.0/08"]\n',
    problems: ['scan.targets[0]: "10.0.0.0/08" is not a valid CIDR'],
  },
  {
    name: 'an octet with a leading zero',
    yaml: 'scan:\n  targets: ["010.0.0.1"]\n',
    problems: ['scan.targets[0]: "010.0.0.1" is not a valid IP address'],
  },
  {
    name: 'a space before the prefix',
    yaml: 'scan:\n  targets: ["10.0.0.0 /24"]\n',
    problems: ['scan.targets[0]: "10.0.0.0 /24" is not a valid CIDR'],
  },
  {
    name: 'a negative prefix length',
    yaml: 'scan:\n  targets: ["10.0.0.0/-1"]\n',
    problems: ['scan.targets[0]: "10.0.0.0/-1" is not a valid CIDR'],
  },
  {
    name: 'two prefix lengths',
    yaml: 'scan:\n  targets: ["10.0.0.0/24/8"]\n',
    problems: ['scan.targets[0]: "10.0.0.0/24/8" is not a valid CIDR'],
  },
  {
    name: 'a prefix without an address',
    yaml: 'scan:\n  targets: ["/24"]\n',
    problems: ['scan.targets[0]: "/24" is not a valid CIDR'],
  },
  { name: 'an empty target', yaml: 'scan:\n  targets: [""]\n', problems: ['scan.targets[0]: "" is empty'] },
  {
    name: 'two addresses in one target',
    yaml: 'scan:\n  targets: ["127.0.0.1,127.0.0.2"]\n',
    problems: ['scan.targets[0]: "127.0.0.1,127.0.0.2" is not a valid IP address'],
  },

  // Port lists: the edges of the range and broken separators.
  {
    name: 'port 0',
    yaml: 'scan:\n  ports: 0\n',
    problems: [`scan.ports: "0" is not a valid port list: 0 is outside 1-65535 ${PORTS_HINT}`],
  },
  {
    name: 'port 65536',
    yaml: 'scan:\n  ports: "65536"\n',
    problems: [`scan.ports: "65536" is not a valid port list: 65536 is outside 1-65535 ${PORTS_HINT}`],
  },
  {
    name: 'a range that ends past 65535',
    yaml: 'scan:\n  ports: "65535-65536"\n',
    problems: [`scan.ports: "65535-65536" is not a valid port list: 65536 is outside 1-65535 ${PORTS_HINT}`],
  },
  {
    name: 'an open-ended range',
    yaml: 'scan:\n  ports: "1-"\n',
    problems: [`scan.ports: "1-" is not a valid port list: "1-" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'a negative port from a YAML number',
    yaml: 'scan:\n  ports: -1\n',
    problems: [`scan.ports: "-1" must not start with "-" ${PORTS_HINT}`],
  },
  {
    name: 'an empty item between commas',
    yaml: 'scan:\n  ports: "80,,81"\n',
    problems: [`scan.ports: "80,,81" is not a valid port list: "" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'a leading comma',
    yaml: 'scan:\n  ports: ",80"\n',
    problems: [`scan.ports: ",80" is not a valid port list: "" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'an nmap UDP prefix',
    yaml: 'scan:\n  ports: "U:53"\n',
    problems: [`scan.ports: "U:53" is not a valid port list: "U:53" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'an nmap SCTP prefix',
    yaml: 'scan:\n  ports: "S:80"\n',
    problems: [`scan.ports: "S:80" is not a valid port list: "S:80" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'a reversed range',
    yaml: 'scan:\n  ports: "100-10"\n',
    problems: [`scan.ports: "100-10" is not a valid port list: "100-10" starts after it ends ${PORTS_HINT}`],
  },
  { name: 'an empty port list', yaml: 'scan:\n  ports: ""\n', problems: [`scan.ports: "" is empty ${PORTS_HINT}`] },
  {
    name: 'a fractional port',
    yaml: 'scan:\n  ports: 80.5\n',
    problems: [`scan.ports: "80.5" is not a valid port list: "80.5" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'the keyword in capitals',
    yaml: 'scan:\n  ports: DEFAULT\n',
    problems: [`scan.ports: "DEFAULT" is not a valid port list: "DEFAULT" is not a port or a range ${PORTS_HINT}`],
  },

  // Injection: nmap options, shell characters, newlines and NUL in targets and ports.
  {
    name: 'an exclusion that is an nmap option',
    yaml: 'scan:\n  exclude: ["-iR 1000"]\n',
    problems: ['scan.exclude[0]: "-iR 1000" must not start with "-"'],
  },
  {
    name: 'a port list that is a long nmap option',
    yaml: 'scan:\n  ports: "--top-ports=10"\n',
    problems: [`scan.ports: "--top-ports=10" must not start with "-" ${PORTS_HINT}`],
  },
  {
    name: 'a target followed by an nmap option',
    yaml: 'scan:\n  targets: ["10.0.0.1 -oN /tmp/x"]\n',
    problems: ['scan.targets[0]: "10.0.0.1 -oN /tmp/x" is not a valid CIDR'],
  },
  {
    name: 'a target with a shell command after ;',
    yaml: 'scan:\n  targets: ["127.0.0.1;id"]\n',
    problems: ['scan.targets[0]: "127.0.0.1;id" is not a valid IP address'],
  },
  {
    name: 'a target piped into a shell command',
    yaml: 'scan:\n  targets: ["127.0.0.1|id"]\n',
    problems: ['scan.targets[0]: "127.0.0.1|id" is not a valid IP address'],
  },
  {
    name: 'a target with command substitution',
    yaml: 'scan:\n  targets: ["$(id)"]\n',
    problems: ['scan.targets[0]: "$(id)" is not a valid IP address'],
  },
  {
    name: 'a target in backticks',
    yaml: 'scan:\n  targets: ["`id`"]\n',
    problems: ['scan.targets[0]: "`id`" is not a valid IP address'],
  },
  {
    name: 'a target with a second nmap input line after a newline',
    yaml: 'scan:\n  targets: ["10.0.0.1\\n-iL /etc/passwd"]\n',
    problems: ['scan.targets[0]: "10.0.0.1\\n-iL /etc/passwd" is not a valid CIDR'],
  },
  {
    name: 'a target ending in NUL',
    yaml: 'scan:\n  targets: ["10.0.0.1\\0"]\n',
    problems: ['scan.targets[0]: "10.0.0.1\\u0000" is not a valid IP address'],
  },
  {
    name: 'a port list with a shell command after ;',
    yaml: 'scan:\n  ports: "80;id"\n',
    problems: [`scan.ports: "80;id" is not a valid port list: "80;id" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'a port list with command substitution',
    yaml: 'scan:\n  ports: "$(id)"\n',
    problems: [`scan.ports: "$(id)" is not a valid port list: "$(id)" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'a port list in backticks',
    yaml: 'scan:\n  ports: "`id`"\n',
    problems: [`scan.ports: "\`id\`" is not a valid port list: "\`id\`" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'a port list with a pipe',
    yaml: 'scan:\n  ports: "80|81"\n',
    problems: [`scan.ports: "80|81" is not a valid port list: "80|81" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'ports separated by a space',
    yaml: 'scan:\n  ports: "80 81"\n',
    problems: [`scan.ports: "80 81" is not a valid port list: "80 81" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'a port list with a flag after a newline, quoted on one line',
    yaml: 'scan:\n  ports: "80\\n-sV"\n',
    problems: [`scan.ports: "80\\n-sV" is not a valid port list: "80\\n-sV" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'a port list ending in NUL, quoted on one line',
    yaml: 'scan:\n  ports: "80\\0"\n',
    problems: [`scan.ports: "80\\u0000" is not a valid port list: "80\\u0000" is not a port or a range ${PORTS_HINT}`],
  },
  {
    name: 'a standard port with a trailing newline',
    yaml: 'standard_ports: ["22/tcp\\n"]\n',
    problems: ['standard_ports[0]: "22/tcp\\n" is not a port/protocol such as 22/tcp'],
  },
  {
    name: 'a top-level key with a newline in it',
    yaml: '"scan\\nstate": {}\n',
    problems: [`["scan\\nstate"]: unknown key (${EXPECTED_TOP})`],
  },
  { name: 'a __proto__ key', yaml: '__proto__: {scan: {}}\n', problems: [`__proto__: unknown key (${EXPECTED_TOP})`] },

  // Absurd ranges.
  {
    name: 'the whole IPv4 space as a target',
    yaml: 'scan:\n  targets: ["0.0.0.0/0"]\n',
    problems: ['scan.targets: expands to 4294967296 addresses after exclusion, more than scan.max_targets (65536)'],
  },
  {
    name: 'the whole IPv6 space at the highest max_targets',
    yaml: 'scan:\n  targets: ["::/0"]\n  max_targets: 16777216\n',
    problems: [
      'scan.targets: expands to 340282366920938463463374607431768211456 addresses after exclusion, more than scan.max_targets (16777216)',
    ],
  },
  {
    name: 'an exclusion of the whole IPv4 space',
    yaml: 'scan:\n  exclude: ["0.0.0.0/0"]\n',
    problems: ['scan.exclude: excludes every address of scan.targets'],
  },

  // Exceptions with bad match keys.
  {
    name: 'an exception matching on an unknown key alone',
    yaml: exceptionWith('{host: web-1}'),
    problems: [
      'exceptions[0].match.host: unknown key (expected one of tenant, vm_name, ip, ports)',
      'exceptions[0].match: must name at least one of tenant, vm_name, ip, ports',
    ],
  },
  {
    name: 'a match key in the wrong case next to a good one',
    yaml: exceptionWith('{tenant: shop, Vm_Name: web}'),
    problems: ['exceptions[0].match.Vm_Name: unknown key (expected one of tenant, vm_name, ip, ports)'],
  },
  {
    name: 'a match key with a space',
    yaml: exceptionWith('{tenant: shop, "vm name": web}'),
    problems: ['exceptions[0].match["vm name"]: unknown key (expected one of tenant, vm_name, ip, ports)'],
  },
  {
    name: 'a match that is a list',
    yaml: exceptionWith('[tenant]'),
    problems: ['exceptions[0].match: must be a mapping, got a list'],
  },
  { name: 'a null match', yaml: exceptionWith('null'), problems: ['exceptions[0].match: must be a mapping, got null'] },
  {
    name: 'an empty tenant',
    yaml: exceptionWith('{tenant: ""}'),
    problems: ['exceptions[0].match.tenant: must not be empty'],
  },
  {
    name: 'a null vm_name next to a tenant',
    yaml: exceptionWith('{tenant: shop, vm_name: null}'),
    problems: ['exceptions[0].match.vm_name: must be a string, got null'],
  },
  {
    name: 'match ports as one string',
    yaml: exceptionWith('{ports: "3306/tcp"}'),
    problems: ['exceptions[0].match.ports: must be a list of strings, got a string ("3306/tcp")'],
  },
  {
    name: 'match ports as numbers',
    yaml: exceptionWith('{ports: [3306]}'),
    problems: ['exceptions[0].match.ports[0]: must be a string, got a number (3306)'],
  },
  {
    name: 'a port range in match ports',
    yaml: exceptionWith('{ports: ["1-1024/tcp"]}'),
    problems: ['exceptions[0].match.ports[0]: "1-1024/tcp" is not a port/protocol such as 22/tcp'],
  },
  {
    name: 'an empty match ports list, which would match nothing',
    yaml: exceptionWith('{tenant: shop, ports: []}'),
    problems: ['exceptions[0].match.ports: must list at least one port/protocol (leave ports out to match any port)'],
  },
  {
    name: 'a match ip that is a flag',
    yaml: exceptionWith('{ip: "-iL x"}'),
    problems: ['exceptions[0].match.ip: "-iL x" must not start with "-"'],
  },
  {
    name: 'a match ip given as a list',
    yaml: exceptionWith('{ip: ["10.0.0.1"]}'),
    problems: ['exceptions[0].match.ip: must be a string, got a list'],
  },
  {
    name: 'a match ip of the whole IPv4 space, an empty match in disguise',
    yaml: exceptionWith('{ip: "0.0.0.0/0"}'),
    problems: ['exceptions[0].match.ip: "0.0.0.0/0" covers every IPv4 address (leave ip out to match any address)'],
  },
  {
    name: 'a match ip of the whole IPv6 space beside ports',
    yaml: exceptionWith('{ip: "::/0", ports: ["22/tcp"]}'),
    problems: ['exceptions[0].match.ip: "::/0" covers every IPv6 address (leave ip out to match any address)'],
  },
  {
    name: 'a match ip range spanning the whole IPv4 space',
    yaml: exceptionWith('{ip: "0.0.0.0-255.255.255.255"}'),
    problems: [
      'exceptions[0].match.ip: "0.0.0.0-255.255.255.255" covers every IPv4 address (leave ip out to match any address)',
    ],
  },
  {
    name: 'an expiry as a Unix timestamp',
    yaml: 'exceptions:\n  - {name: a, match: {tenant: x}, reason: r, expires: 1700000000}\n',
    problems: ['exceptions[0].expires: a number (1700000000) is not a date (YYYY-MM-DD) or an RFC 3339 time'],
  },
  {
    name: 'an expiry time without a zone',
    yaml: 'exceptions:\n  - {name: a, match: {tenant: x}, reason: r, expires: "2027-01-01T10:00:00"}\n',
    problems: ['exceptions[0].expires: "2027-01-01T10:00:00" is not a date (YYYY-MM-DD) or an RFC 3339 time'],
  },
];

describe('hostile config values', () => {
  for (const fixture of HOSTILE) {
    it(`refuses ${fixture.name} with exactly the expected problems`, () => {
      const result = parseConfig(parse(fixture.yaml), {});
      assert.deepEqual(result.ok ? [] : result.problems, fixture.problems);
    });
  }

  it('keeps every problem on one line, whatever control characters the values hold', () => {
    const multiLine = HOSTILE.flatMap((fixture) => {
      const result = parseConfig(parse(fixture.yaml), {});
      return result.ok ? [] : result.problems.filter((problem) => /[\n\r\0]/.test(problem));
    });
    assert.deepEqual(multiLine, []);
  });
});

describe('hostile-looking config values that are safe', () => {
  it('keeps an nmap path with shell characters as one file name, since nmap is never run through a shell', () => {
    const result = parseConfig(parse('scan:\n  nmap:\n    path: "nmap; rm -rf /"\n'), {});
    assert.ok(result.ok);
    assert.equal(result.config.scan.nmapPath, 'nmap; rm -rf /');
  });

  it('accepts the longest timer Node.js can set as an interval', () => {
    const result = parseConfig(parse('scan:\n  interval: 24d20h31m23s647ms\n'), {});
    assert.ok(result.ok);
    assert.equal(result.config.scan.intervalMs, 2_147_483_647);
  });

  it('accepts a match ip one bit short of a whole family', () => {
    const result = parseConfig(parse(exceptionWith('{ip: "0.0.0.0/1"}')), {});
    assert.ok(result.ok);
    assert.deepEqual(result.config.exceptions[0]?.match.ip, { family: 4, first: 0n, last: 2_147_483_647n });
  });

  it('reads a port with leading zeros as the port itself', () => {
    const result = parseConfig(parse('scan:\n  ports: "0022,080"\n'), {});
    assert.ok(result.ok);
    assert.equal(result.config.scan.ports, '22,80');
  });
});
