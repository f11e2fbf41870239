import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExporterState } from '../../src/state/exporter-state.ts';
import type { ReportFilter } from '../../src/report/report.ts';
import { filterLatent, renderLandingPage } from '../../src/page/landing-page.ts';
import { HOSTILE_TENANT, LATENT, buildPageSnapshot, pageConfig } from '../support/page-snapshots.ts';

const BUILD = { version: '0.1.0', revision: 'abc123', nodejsVersion: 'v24.21.0', nmapVersion: '7.93' };

function restoredState(): ExporterState {
  const state = new ExporterState({ config: pageConfig(), startedAt: new Date('2026-11-26T02:00:00Z') });
  state.restore(buildPageSnapshot());
  return state;
}

function render(filter: ReportFilter = {}): string {
  return renderLandingPage({ state: restoredState(), build: BUILD, filter });
}

function decode(text: string): string {
  return text.replace(/<[^>]*>/g, '').replace(/&#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)));
}

function headingsOf(html: string, level: 'h2' | 'h3'): string[] {
  return [...html.matchAll(new RegExp(`<${level}>(.*?)</${level}>`, 'g'))].map(
    ([, heading]) => decode(heading ?? '').split(' ')[0] ?? '',
  );
}

/** The addresses and ports of the open-port rows (before the latent section) and of the latent rows. */
function listed(html: string): { open: string[]; latent: string[] } {
  const [open = '', latent = ''] = html.split('<h2>Latent exposures</h2>');
  const cells = (part: string) =>
    [...part.matchAll(/<tr>(?:<td>.*?<\/td>)*?<td><code>([^<]*)<\/code><\/td><td>([^<]*)<\/td>/g)].map(
      ([, ip, port]) => `${ip} ${port}`,
    );
  return { open: cells(open), latent: cells(latent) };
}

describe('renderLandingPage', () => {
  it('keeps the health summary: version, targets, results and the latent count', () => {
    const html = render();
    assert.match(html, /<h1>exposure-exporter<\/h1>/);
    assert.ok(html.includes('<tr><th>Version</th><td>0.1.0 (revision abc123, nmap 7.93, Node.js v24.21.0)</td></tr>'));
    assert.ok(html.includes('<tr><th>Targets</th><td>203.0.113.0/26 (64 addresses)</td></tr>'));
    assert.ok(
      html.includes('<tr><th>Results from</th><td>2026-11-26T01:00:41.200Z (restored from the state file)</td></tr>'),
    );
    assert.ok(html.includes('<tr><th>Open ports</th><td>7 (5 nonstandard, 0 excepted)</td></tr>'));
    assert.ok(html.includes('<tr><th>Latent exposures</th><td>2</td></tr>'));
  });

  it('has the exposures by tenant, then the latent ones', () => {
    const html = render();
    assert.deepEqual(headingsOf(html, 'h2'), ['Exposures', 'Latent']);
    assert.deepEqual(headingsOf(html, 'h3'), ['alpha', 'beta', 'zeta', 'No']);
    assert.deepEqual(listed(html), {
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

  it('contains no script element however hostile the names, only their escaped text', () => {
    const html = render();
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /href="javascript:/i);
    assert.ok(html.includes('carol<br>javascript:alert(1)'), 'a script URL as an email is text, not a link');
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(html.includes('beta &#34;&#38;&#34; sons'));
    assert.ok(html.includes('<a href="mailto:alice@example.org">alice@example.org</a>'));
  });

  it('shows only one tenant under a tenant filter, its latent exposures included', () => {
    assert.deepEqual(listed(render({ tenant: 'alpha' })), {
      open: ['203.0.113.7 6379/tcp', '203.0.113.9 9200/tcp'],
      latent: ['203.0.113.7 27017/tcp'],
    });
    assert.deepEqual(listed(render({ tenant: HOSTILE_TENANT })), {
      open: ['203.0.113.8 5432/tcp'],
      latent: ['203.0.113.8 all/tcp'],
    });
  });

  it('shows only the chosen severities under a severity filter', () => {
    assert.deepEqual(listed(render({ severities: ['critical'] })), {
      open: ['203.0.113.11 2375/tcp'],
      latent: ['203.0.113.8 all/tcp'],
    });
  });

  it('still offers every tenant as a link on a filtered page', () => {
    const html = render({ tenant: 'zeta' });
    assert.ok(html.includes('<a href="?tenant=alpha">alpha</a>'));
    assert.ok(html.includes('<b aria-current="page">zeta</b>'));
    assert.ok(html.includes('<a href="report?tenant=zeta">This view as JSON</a>'));
  });

  it('says the first cycle is running and lists nothing before there are results', () => {
    const state = new ExporterState({ config: pageConfig(), startedAt: new Date('2026-11-26T02:00:00Z') });
    const html = renderLandingPage({ state, build: BUILD });
    assert.ok(html.includes('<tr><th>Results</th><td>none yet: the first cycle is running</td></tr>'));
    assert.doesNotMatch(html, /<h2>/);
  });
});

describe('filterLatent', () => {
  it('matches the tenant by name or by id, as the report does', () => {
    assert.deepEqual(filterLatent(LATENT, { tenant: 'b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1' }), [LATENT[1]]);
    assert.deepEqual(filterLatent(LATENT, { tenant: 'alpha' }), [LATENT[0]]);
  });

  it('keeps latent exposures under the suspicious filter, which is about ports that answered', () => {
    assert.deepEqual(filterLatent(LATENT, { suspicious: false }), LATENT);
  });

  it('keeps the chosen severities', () => {
    assert.deepEqual(filterLatent(LATENT, { severities: ['high', 'medium'] }), [LATENT[0]]);
  });
});
