import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import type { SnapshotHost } from '../../src/exposure/snapshot.ts';
import { describeRuleToChange, renderLatentSection, renderTenantSections } from '../../src/page/exposure-tables.ts';
import {
  ALPHA_WEB,
  BETA_DB,
  HOSTILE_EMAIL,
  HOSTILE_TENANT,
  LATENT,
  SECOND_WORLD_OPEN,
  WORLD_OPEN,
  buildPageSnapshot,
} from '../support/page-snapshots.ts';

/** The text a reader sees in each cell of each body row, tags dropped and entities decoded. */
function rowsOf(html: string): string[][] {
  return [...html.matchAll(/<tr>((?:<td>.*?<\/td>)+)<\/tr>/g)].map(([, cells]) =>
    [...(cells ?? '').matchAll(/<td>(.*?)<\/td>/g)].map(([, cell]) => textOf(cell ?? '')),
  );
}

function textOf(html: string): string {
  return html
    .replaceAll('<br>', ' | ')
    .replace(/<[^>]*>/g, '')
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)));
}

function headingsOf(html: string): string[] {
  return [...html.matchAll(/<h3>(.*?)<\/h3>/g)].map(([, heading]) => textOf(heading ?? ''));
}

describe('describeRuleToChange', () => {
  it('names each admitting rule as group / rule (remote)', () => {
    assert.deepEqual(describeRuleToChange({ admittedBy: [WORLD_OPEN, SECOND_WORLD_OPEN], portSecurity: true }), [
      'redis-open / 9a000000-0000-4000-8000-000000000001 (0.0.0.0/0)',
      'default / 9a000000-0000-4000-8000-000000000002 (0.0.0.0/0)',
    ]);
  });

  it('falls back to the group id for a group without a name', () => {
    assert.deepEqual(
      describeRuleToChange({ admittedBy: [{ ...WORLD_OPEN, securityGroup: '', remote: '::/0' }], portSecurity: true }),
      ['5e0c0000-0000-4000-8000-000000000001 / 9a000000-0000-4000-8000-000000000001 (::/0)'],
    );
  });

  it('says port security is off when the port has none', () => {
    assert.deepEqual(describeRuleToChange({ admittedBy: [], portSecurity: false }), ['port security off']);
  });

  it('says no world-open rule admits it when groups were read and none matched', () => {
    assert.deepEqual(describeRuleToChange({ admittedBy: [], portSecurity: true }), [
      "no world-open rule (reachable from the scanner's network only)",
    ]);
  });

  it('says unknown when security groups could not be read or the address has no port', () => {
    assert.deepEqual(describeRuleToChange({ admittedBy: [], portSecurity: null }), ['unknown']);
  });
});

describe('renderTenantSections', () => {
  const snapshot = buildPageSnapshot();

  it('has a section per tenant in name order, the addresses no inventory knows last', () => {
    assert.deepEqual(headingsOf(renderTenantSections(snapshot.hosts)), [
      'alpha a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1',
      `${HOSTILE_TENANT} b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1`,
      'zeta c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1',
      'No tenant (addresses no inventory knows)',
    ]);
  });

  it('lists only nonstandard ports, each with VM, owner, address, port, service, severity, first seen and the rule to change', () => {
    assert.deepEqual(rowsOf(renderTenantSections(snapshot.hosts)), [
      [
        '<script>alert(1)</script>',
        'alice | alice@example.org',
        '203.0.113.7',
        '6379/tcp',
        'redis',
        'high',
        '2026-11-26 01:00:41 UTC',
        'redis-open / 9a000000-0000-4000-8000-000000000001 (0.0.0.0/0) | default / 9a000000-0000-4000-8000-000000000002 (0.0.0.0/0)',
      ],
      [
        'search-1',
        'anna',
        '203.0.113.9',
        '9200/tcp',
        'wap-wsp',
        'high',
        '2026-11-26 01:00:41 UTC',
        "no world-open rule (reachable from the scanner's network only)",
      ],
      [
        'db-1',
        `bob | ${HOSTILE_EMAIL}`,
        '203.0.113.8',
        '5432/tcp',
        'postgresql',
        'high',
        '2026-11-26 01:00:41 UTC',
        'port security off',
      ],
      [
        'ci-1',
        'carol | javascript:alert(1)',
        '203.0.113.11',
        '2375/tcp',
        'docker',
        'critical',
        '2026-11-26 01:00:41 UTC',
        '5e0c0000-0000-4000-8000-000000000001 / 9a000000-0000-4000-8000-0000000000c1 (0.0.0.0/0)',
      ],
      ['unknown', 'unknown', '203.0.113.50', '9100/tcp', 'jetdirect', 'low', '2026-11-26 01:00:41 UTC', 'unknown'],
    ]);
  });

  it('escapes hostile names in text and attributes, and links only an email that looks like an address', () => {
    const html = renderTenantSections(snapshot.hosts);
    assert.doesNotMatch(html, /<script/i);
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(html.includes('beta &#34;&#38;&#34; sons'));
    assert.ok(html.includes('bob&#60;b&#62;@example.org'));
    assert.deepEqual(
      [...html.matchAll(/href="([^"]*)"/g)].map(([, href]) => href),
      ['mailto:alice@example.org'],
    );
  });

  it('shows what verification found answering, escaped, and a store that needs no credentials', () => {
    const host = snapshot.hosts[0]!;
    const ports = host.ports.map((port) =>
      port.port === 6379
        ? {
            ...port,
            service: 'redis',
            detected: {
              name: 'redis',
              product: 'Redis <b>key-value</b> store',
              version: '7.0.15',
              unauthenticated: true,
            },
          }
        : port,
    );
    const html = renderTenantSections([{ ...host, ports }]);
    assert.equal(rowsOf(html)[0]?.[4], 'redis | Redis <b>key-value</b> store 7.0.15 | answers without credentials');
    assert.ok(html.includes('Redis &#60;b&#62;key-value&#60;/b&#62; store 7.0.15'));
  });

  it('keeps two tenants that share a name apart, by id', () => {
    const host = (ip: string, tenantId: string): SnapshotHost => ({
      ...snapshot.hosts[0]!,
      ip,
      owner: { ...ALPHA_WEB, vmName: ip, tenantId },
    });
    assert.deepEqual(headingsOf(renderTenantSections([host('203.0.113.7', 'id-b'), host('203.0.113.8', 'id-a')])), [
      'alpha id-a',
      'alpha id-b',
    ]);
  });

  it('names a tenant known only by id by its id, once', () => {
    const owner = { ...UNKNOWN_OWNER, ownerKind: 'floating_ip', tenantId: 'p-9' };
    const html = renderTenantSections([{ ...snapshot.hosts[0]!, owner }]);
    assert.deepEqual(headingsOf(html), ['p-9']);
    assert.equal(rowsOf(html)[0]?.[0], 'floating_ip');
  });

  it('says so when nothing is left to list', () => {
    assert.equal(renderTenantSections([]), '<p class="empty">No nonstandard open ports match this view.</p>');
  });
});

describe('renderLatentSection', () => {
  it('lists each latent exposure with its tenant, not listening yet, and the rule that admits it', () => {
    assert.deepEqual(rowsOf(renderLatentSection(LATENT)), [
      [
        'alpha',
        '<script>alert(1)</script>',
        'alice | alice@example.org',
        '203.0.113.7',
        '27017/tcp',
        'not listening yet',
        'high',
        'not listening yet',
        'mongo-range / 9a000000-0000-4000-8000-000000000003',
      ],
      [
        HOSTILE_TENANT,
        'db-1',
        `bob | ${HOSTILE_EMAIL}`,
        '203.0.113.8',
        'all/tcp',
        'not listening yet',
        'critical',
        'not listening yet',
        'port security off',
      ],
    ]);
  });

  it('orders by tenant, then address, then port with all last', () => {
    const latent = [
      { ...LATENT[0]!, port: 'all' as const },
      { ...LATENT[0]!, ip: '203.0.113.10', port: 3306 },
      { ...LATENT[0]!, port: 6379 },
      { ...LATENT[1]!, owner: { ...BETA_DB, tenant: 'aardvark' } },
    ];
    assert.deepEqual(
      rowsOf(renderLatentSection(latent)).map((row) => `${row[0]?.split(' ')[0]} ${row[3]} ${row[4]}`),
      [
        'aardvark 203.0.113.8 all/tcp',
        'alpha 203.0.113.7 6379/tcp',
        'alpha 203.0.113.7 all/tcp',
        'alpha 203.0.113.10 3306/tcp',
      ],
    );
  });

  it('escapes the hostile names', () => {
    const html = renderLatentSection(LATENT);
    assert.doesNotMatch(html, /<script/i);
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(
      html.includes('<td><span title="b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1">beta &#34;&#38;&#34; sons</span></td>'),
    );
  });

  it('says so when there are none', () => {
    assert.match(renderLatentSection([]), /<p class="empty">No latent exposures match this view\.<\/p>$/);
  });
});
