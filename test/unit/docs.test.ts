/**
 * The user documentation in docs/ states the contract the other tests pin; these tests keep the two from
 * drifting apart: every metric's HELP and type as the golden exposition has them, every field of the golden
 * report, every config key the parser accepts, every port of the severity table and every flag.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { BUILTIN_SEVERITIES } from '../../src/exposure/severity.ts';
import { USAGE } from '../../src/flags.ts';

const REPO = new URL('../../', import.meta.url);

function readRepoFile(path: string): Promise<string> {
  return readFile(new URL(path, REPO), 'utf8');
}

/** Whether `name` is written in backticks in `text`, alone or inside a longer code span (`nmap.version`). */
function mentionsInCode(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\`[^\`\\n]*\\b${escaped}\\b[^\`\\n]*\``).test(text);
}

/** The keys a config mapping accepts, as the parser lists them when it meets an unknown one. */
function acceptedKeys(yaml: string): string[] {
  try {
    parseConfigText(yaml, 'c.yml');
  } catch (err) {
    const match = /unknown key \(expected one of ([^)]*)\)/.exec((err as Error).message);
    if (match) return match[1]!.split(', ');
    throw err;
  }
  throw new Error(`the config was accepted: ${yaml}`);
}

describe('docs/metrics.md', () => {
  it('gives every metric of the exposition its type and its exact HELP text', async () => {
    const [doc, golden] = await Promise.all([
      readRepoFile('docs/metrics.md'),
      readRepoFile('test/golden/metrics-two-cycles.prom'),
    ]);
    const families = [...golden.matchAll(/^# HELP (\S+) (.*)$/gm)].map(([, name, help]) => ({
      name: name!,
      help: help!,
    }));
    assert.ok(families.length >= 20, `found ${families.length} metrics in the golden file`);
    for (const { name, help } of families) {
      const type = new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(golden)?.[1];
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      assert.ok(row, `docs/metrics.md has a row for ${name}`);
      assert.ok(row.includes(`| ${type} |`), `${name} is documented as a ${type}`);
      assert.ok(row.includes(help), `${name}'s HELP text is documented as the exporter writes it: ${help}`);
    }
  });
});

describe('docs/report.md', () => {
  it('documents every field of the report', async () => {
    const [doc, golden] = await Promise.all([
      readRepoFile('docs/report.md'),
      readRepoFile('test/golden/report-two-cycles.json'),
    ]);
    const fields = new Set<string>();
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (typeof value === 'object' && value !== null) {
        for (const [key, child] of Object.entries(value)) {
          fields.add(key);
          collect(child);
        }
      }
    };
    collect(JSON.parse(golden));
    assert.ok(fields.has('first_seen') && fields.has('by_severity'));
    const missing = [...fields].filter((field) => !mentionsInCode(doc, field));
    assert.deepEqual(missing, []);
  });
});

describe('docs/config.md', () => {
  const sections: readonly { name: string; yaml: string }[] = [
    { name: 'the top level', yaml: 'zzz: 1\n' },
    { name: 'scan', yaml: 'scan: {zzz: 1}\n' },
    { name: 'scan.nmap', yaml: 'scan: {nmap: {zzz: 1}}\n' },
    { name: 'scan.udp', yaml: 'scan: {udp: {zzz: 1}}\n' },
    { name: 'scan.verify', yaml: 'scan: {verify: {zzz: 1}}\n' },
    { name: 'an exception', yaml: 'exceptions: [{zzz: 1}]\n' },
    { name: 'an exception match', yaml: 'exceptions: [{name: a, reason: r, expires: 2027-01-01, match: {zzz: 1}}]\n' },
    { name: 'openstack', yaml: 'openstack: {zzz: 1}\n' },
    { name: 'state', yaml: 'state: {zzz: 1}\n' },
  ];
  for (const section of sections) {
    it(`documents every key of ${section.name}`, async () => {
      const doc = await readRepoFile('docs/config.md');
      const keys = acceptedKeys(section.yaml);
      assert.ok(keys.length > 0);
      assert.deepEqual(
        keys.filter((key) => !mentionsInCode(doc, key)),
        [],
      );
    });
  }
});

describe('docs/severities.md', () => {
  it('lists every port of the built-in table under its severity and protocol, and nowhere else', async () => {
    const doc = await readRepoFile('docs/severities.md');
    const documented = new Map<string, string>();
    // The UDP table comes after its own heading; everything before it is TCP.
    const [tcpPart, udpPart] = doc.split(/^### UDP$/m);
    assert.ok(udpPart !== undefined, 'docs/severities.md has a "### UDP" section');
    for (const [protocol, part] of [
      ['tcp', tcpPart!],
      ['udp', udpPart],
    ] as const) {
      for (const [, severity, ports] of part.matchAll(/^\| \*\*(critical|high|medium)\*\* \| ([\d, ]+) \|/gm)) {
        for (const port of ports!.split(',')) documented.set(`${port.trim()}/${protocol}`, severity!);
      }
    }
    assert.deepEqual(new Map([...documented].sort()), new Map([...BUILTIN_SEVERITIES].sort()));
  });
});

describe('docs/cli.md', () => {
  it('documents every flag the usage text lists', async () => {
    const doc = await readRepoFile('docs/cli.md');
    const flags = [...USAGE.matchAll(/^\s+(?:-\w, )?(--[\w.-]+)/gm)].map(([, flag]) => flag!);
    assert.ok(flags.includes('--config.file') && flags.includes('--help'));
    assert.deepEqual(
      flags.filter((flag) => !doc.includes(flag)),
      [],
    );
  });
});
