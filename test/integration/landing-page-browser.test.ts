/**
 * The landing page as a browser sees it: the built exporter restores a state file this test writes (with the
 * project's own buildSnapshot and renderState: hostile names, an owner's email, admitting rules, a port with
 * port security off, latent exposures), and Debian's headless Chromium loads `/` from it. The assertions are
 * on the DOM Chromium built, so they hold for what a reader gets, not for the HTML text alone; a screenshot
 * at 1280 px is kept in test-artifacts/landing-page.png for a person to look at.
 *
 * The exporter's nmap is the `hang` fake: its first cycle never ends, so the page shows the restored state
 * for the whole test, and nothing is scanned at all.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderState } from '../../src/state/state-file.ts';
import { dumpDom, takeScreenshot } from '../support/chromium.ts';
import { startExporter } from '../support/exporter-process.ts';
import type { ExporterProcess } from '../support/exporter-process.ts';
import { HOSTILE_TENANT, HOSTILE_VM, buildPageSnapshot } from '../support/page-snapshots.ts';

const HANG = new URL('../fixtures/fake-nmap/hang', import.meta.url).pathname;
const SCREENSHOT = new URL('../../test-artifacts/landing-page.png', import.meta.url).pathname;

/** Text as Chromium serializes it inside an element: `&`, `<`, `>` and no-break spaces escaped. */
function serializedText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function decodeSerialized(html: string): string {
  return html.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

/** Tenant section headings, in order, as text. */
function tenantHeadings(dom: string): string[] {
  return [...dom.matchAll(/<section class="tenant">\s*<h3>(.*?)<\/h3>/g)].map(([, heading]) =>
    decodeSerialized((heading ?? '').replace(/<[^>]*>/g, '')),
  );
}

/** `ip port/protocol` of each open-port row (tenant sections) and each latent row; the history part comes after. */
function listedRows(dom: string): { open: string[]; latent: string[] } {
  const [exposures = ''] = dom.split('<h2>History</h2>');
  const [open = '', latent = ''] = exposures.split('<h2>Latent exposures</h2>');
  const rows = (part: string) =>
    [...part.matchAll(/<td><code>([^<]*)<\/code><\/td><td>([^<]*)<\/td>/g)].map(([, ip, port]) => `${ip} ${port}`);
  return { open: rows(open), latent: rows(latent) };
}

describe('the landing page in headless Chromium', () => {
  let dir = '';
  let exporter: ExporterProcess | undefined;
  let dom = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-page-browser-'));
    const statePath = join(dir, 'state.json');
    await writeFile(statePath, renderState(buildPageSnapshot(), new Date('2026-11-26T01:00:42Z')));
    const configPath = join(dir, 'config.yml');
    await writeFile(
      configPath,
      `scan:
  targets: ["127.0.0.1"]
  interval: 1h
  timeout: 30m
  nmap:
    path: ${JSON.stringify(HANG)}
state:
  path: ${JSON.stringify(statePath)}
`,
    );
    exporter = await startExporter([`--config.file=${configPath}`]);
    dom = await dumpDom(`${exporter.baseUrl}/`);
  });

  after(async () => {
    await exporter?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows a section per tenant, in name order, with the addresses no inventory knows last', () => {
    assert.deepEqual(tenantHeadings(dom), [
      'alpha a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1',
      `${HOSTILE_TENANT} b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1`,
      'zeta c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1',
      'No tenant (addresses no inventory knows)',
    ]);
  });

  it('lists the nonstandard open ports and the latent exposures from the restored state', () => {
    assert.deepEqual(listedRows(dom), {
      open: [
        '203.0.113.7 6379/tcp',
        '203.0.113.9 9200/tcp',
        '203.0.113.8 5432/tcp',
        '203.0.113.11 2375/tcp',
        '203.0.113.50 9100/tcp',
      ],
      latent: ['203.0.113.7 27017/tcp', '203.0.113.8 all/tcp'],
    });
  });

  it('shows the VM named like a script tag as text, and the page has no script element', () => {
    assert.ok(
      dom.includes(`<span title="7d1c3a0e-0000-4000-8000-00000000a001, ACTIVE">${serializedText(HOSTILE_VM)}</span>`),
      dom,
    );
    assert.doesNotMatch(dom, /<script/i);
    assert.ok(dom.includes(serializedText(HOSTILE_TENANT)));
  });

  it("links the owner's email with mailto, and shows a malformed one as text", () => {
    assert.ok(dom.includes('alice<br><a href="mailto:alice@example.org">alice@example.org</a>'), dom);
    assert.ok(dom.includes(`bob<br>${serializedText('bob<b>@example.org')}</td>`));
    assert.ok(dom.includes('carol<br>javascript:alert(1)</td>'));
    assert.deepEqual(
      [...dom.matchAll(/href="(mailto:[^"]*)"/g)].map(([, href]) => href),
      ['mailto:alice@example.org', 'mailto:alice@example.org'],
    );
  });

  it('says what to change for each exposure: the admitting rules, port security off, no world-open rule, unknown', () => {
    assert.ok(
      dom.includes(
        '<td>redis-open / 9a000000-0000-4000-8000-000000000001 (0.0.0.0/0)<br>default / 9a000000-0000-4000-8000-000000000002 (0.0.0.0/0)</td>',
      ),
    );
    assert.ok(dom.includes('<td>port security off</td>'));
    assert.ok(dom.includes("<td>no world-open rule (reachable from the scanner's network only)</td>"));
    assert.ok(dom.includes('<td>unknown</td>'));
    assert.ok(dom.includes('<td>mongo-range / 9a000000-0000-4000-8000-000000000003</td>'));
  });

  it('keeps the health summary', () => {
    assert.match(dom, /<h1>exposure-exporter<\/h1>/);
    assert.ok(
      dom.includes('<tr><th>Results from</th><td>2026-11-26T01:00:41.200Z (restored from the state file)</td></tr>'),
    );
    assert.ok(dom.includes('<tr><th>Latent exposures</th><td>2</td></tr>'));
  });

  it("follows a tenant filter link to a page with only that tenant's rows", async () => {
    assert.ok(exporter);
    const href = dom.match(/<a href="([^"]*)">zeta<\/a>/)?.[1];
    assert.equal(href, '?tenant=zeta');
    const filtered = await dumpDom(new URL(decodeSerialized(href ?? ''), `${exporter.baseUrl}/`).href);
    assert.deepEqual(tenantHeadings(filtered), ['zeta c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1']);
    assert.deepEqual(listedRows(filtered), { open: ['203.0.113.11 2375/tcp'], latent: [] });
  });

  it('filters by a tenant whose name has a quote and an ampersand, and by severity', async () => {
    assert.ok(exporter);
    const href = dom.match(new RegExp(`<a href="([^"]*)">${serializedText(HOSTILE_TENANT)}</a>`))?.[1] ?? '';
    assert.equal(href, '?tenant=beta+%22%26%22+sons');
    const tenantPage = await dumpDom(new URL(decodeSerialized(href), `${exporter.baseUrl}/`).href);
    assert.deepEqual(listedRows(tenantPage), { open: ['203.0.113.8 5432/tcp'], latent: ['203.0.113.8 all/tcp'] });
    const both = await dumpDom(`${exporter.baseUrl}/?tenant=alpha&severity=high`);
    assert.deepEqual(listedRows(both), {
      open: ['203.0.113.7 6379/tcp', '203.0.113.9 9200/tcp'],
      latent: ['203.0.113.7 27017/tcp'],
    });
  });

  it('renders a 1280 px screenshot, kept in test-artifacts/landing-page.png', async () => {
    assert.ok(exporter);
    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await rm(SCREENSHOT, { force: true });
    await takeScreenshot(`${exporter.baseUrl}/`, SCREENSHOT, { width: 1280, height: 900 });
    assert.ok((await stat(SCREENSHOT)).size > 10_000, 'a real picture, not an empty one');
  });
});
