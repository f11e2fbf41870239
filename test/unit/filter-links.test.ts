import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReportFilter } from '../../src/report/report.ts';
import type { ReportFilter } from '../../src/report/report.ts';
import { renderFilterLinks, renderFilterQuery } from '../../src/page/filter-links.ts';
import { HOSTILE_TENANT } from '../support/page-snapshots.ts';

const TENANTS = [
  { tenant: 'zeta', tenantId: 'z-1' },
  { tenant: HOSTILE_TENANT, tenantId: 'b-1' },
  { tenant: 'alpha', tenantId: 'a-1' },
  { tenant: 'alpha', tenantId: 'a-1' },
  { tenant: '', tenantId: '' },
];

function decode(text: string): string {
  return text.replace(/&#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)));
}

/** Each link as [text, href decoded], and the one marked current as [text, null]. */
function linksOf(html: string): [string, string | null][] {
  return [...html.matchAll(/<a href="([^"]*)">(.*?)<\/a>|<b aria-current="page">(.*?)<\/b>/g)].map(
    ([, href, text, current]) =>
      href === undefined ? [decode(current ?? ''), null] : [decode(text ?? ''), decode(href)],
  );
}

/** What the page's own filter parser makes of a link's query. */
function filterOf(href: string): ReportFilter {
  const parsed = parseReportFilter(new URL(href, 'http://exporter.example.net:9869/').searchParams);
  assert.ok(parsed.ok, href);
  return parsed.filter;
}

describe('renderFilterQuery', () => {
  const filters: ReportFilter[] = [
    {},
    { suspicious: true },
    { tenant: HOSTILE_TENANT },
    { tenant: '' },
    { tenant: 'alpha', severities: ['critical', 'high'], suspicious: false },
  ];
  for (const filter of filters) {
    it(`reads back as the same filter: ${JSON.stringify(filter)}`, () => {
      assert.deepEqual(filterOf(`?${renderFilterQuery(filter)}`), filter);
    });
  }
});

describe('renderFilterLinks', () => {
  it('offers all, suspicious only, each tenant once in name order (no tenant last) and each severity', () => {
    assert.deepEqual(linksOf(renderFilterLinks({ filter: {}, tenants: TENANTS })), [
      ['all', null],
      ['suspicious only', '?suspicious=true'],
      ['alpha', '?tenant=alpha'],
      [HOSTILE_TENANT, '?tenant=beta+%22%26%22+sons'],
      ['zeta', '?tenant=zeta'],
      ['no tenant', '?tenant='],
      ['critical', '?severity=critical'],
      ['high', '?severity=high'],
      ['medium', '?severity=medium'],
      ['low', '?severity=low'],
      ['This view as JSON', 'report'],
    ]);
  });

  it('keeps the other filters in each link and marks the current ones', () => {
    const links = linksOf(renderFilterLinks({ filter: { tenant: 'alpha', severities: ['high'] }, tenants: TENANTS }));
    assert.deepEqual(
      links.find(([text]) => text === 'all'),
      ['all', './'],
    );
    assert.deepEqual(
      links.find(([text]) => text === 'alpha'),
      ['alpha', null],
    );
    assert.deepEqual(
      links.find(([text]) => text === 'high'),
      ['high', null],
    );
    assert.deepEqual(filterOf(links.find(([text]) => text === 'zeta')?.[1] ?? ''), {
      tenant: 'zeta',
      severities: ['high'],
    });
    assert.deepEqual(filterOf(links.find(([text]) => text === 'critical')?.[1] ?? ''), {
      tenant: 'alpha',
      severities: ['critical'],
    });
    assert.deepEqual(filterOf(links.find(([text]) => text === 'suspicious only')?.[1] ?? ''), {
      tenant: 'alpha',
      severities: ['high'],
      suspicious: true,
    });
    assert.deepEqual(links.at(-1), ['This view as JSON', 'report?tenant=alpha&severity=high']);
  });

  it('escapes tenant names in text and in the href', () => {
    const html = renderFilterLinks({ filter: {}, tenants: [{ tenant: '"><script>alert(1)</script>', tenantId: 'x' }] });
    assert.doesNotMatch(html, /<script/i);
    assert.ok(html.includes('>&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;</a>'));
    assert.ok(html.includes('href="?tenant=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"'));
  });

  it('leaves out the tenant line when there are no tenants', () => {
    assert.doesNotMatch(renderFilterLinks({ filter: {}, tenants: [] }), /Tenant/);
  });
});
