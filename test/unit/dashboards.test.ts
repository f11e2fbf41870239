/**
 * The Grafana dashboards and provisioning files as files: they parse, carry what an import and a provisioner
 * need, and every panel says what it shows. Whether their queries work on real data is the integration test
 * test/integration/dashboards-prometheus.test.ts.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

const GRAFANA = new URL('../../grafana/', import.meta.url);
const README = new URL('../../README.md', import.meta.url);
const GOLDEN_METRICS = new URL('../golden/metrics-two-cycles.prom', import.meta.url);

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax, not a template literal.
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** Grafana 11.0 writes schema version 39; older ones would migrate the file on every load. */
const MIN_SCHEMA_VERSION = 39;
const SEVERITIES = ['critical', 'high', 'medium', 'low'];
/**
 * The history's metrics (tickets and time to remediate), which src/history is being written to expose: the
 * dashboards query them before the golden exposition has them. Each must leave this list when it joins the
 * golden file (the check below fails until it does), so the list cannot outlive its reason.
 */
const HISTORY_METRICS_NOT_YET_GOLDEN = [
  'exposure_tickets_open',
  'exposure_tickets_overdue',
  'exposure_remediation_target_seconds',
  'exposure_ticket_oldest_open_age_seconds',
  'exposure_tickets_closed_total',
  'exposure_tickets_open_seconds_total',
];
/** The panels of each dashboard's "Time to remediate" row, in grid order. */
const REMEDIATION_PANELS: Readonly<Record<string, readonly string[]>> = {
  'exposure-overview': [
    'Mean time to remediate',
    'Oldest open ticket against its target',
    'Mean time to remediate by tenant',
    'Open and overdue tickets',
  ],
  'exposure-tenant': ['Overdue tickets', 'Open and overdue tickets', 'Mean time to remediate'],
};
/** Every table of exposed ports, per dashboard: all of them, then the two kinds that need acting on first. */
const EXPOSURE_TABLES: Readonly<Record<string, readonly string[]>> = {
  'exposure-overview': ['Current exposures', 'Unauthenticated services', 'UDP amplifiers'],
  'exposure-tenant': ['Exposures', 'Unauthenticated services', 'UDP amplifiers'],
};

interface Target {
  readonly datasource?: unknown;
  readonly expr?: string;
  readonly refId?: string;
  readonly instant?: boolean;
  readonly format?: string;
}

interface Link {
  readonly title?: string;
  readonly url?: string;
}

interface Override {
  readonly matcher: { readonly id: string; readonly options: string };
  readonly properties: readonly { readonly id: string; readonly value: unknown }[];
}

interface Transformation {
  readonly id: string;
  readonly options: Record<string, unknown>;
}

interface Panel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly collapsed?: boolean;
  readonly panels?: readonly Panel[];
  readonly description?: string;
  readonly datasource?: unknown;
  readonly gridPos?: { readonly h: number; readonly w: number; readonly x: number; readonly y: number };
  readonly fieldConfig?: {
    readonly defaults?: { readonly unit?: string; readonly links?: readonly Link[] };
    readonly overrides?: readonly Override[];
  };
  readonly targets?: readonly Target[];
  readonly transformations?: readonly Transformation[];
}

interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: unknown;
  readonly definition?: string;
  readonly datasource?: unknown;
  readonly multi?: boolean;
  readonly includeAll?: boolean;
  readonly allValue?: string;
  readonly options?: readonly { readonly value: string }[];
}

interface Dashboard {
  readonly uid?: string;
  readonly title?: string;
  readonly description?: string;
  readonly schemaVersion?: number;
  readonly id?: unknown;
  readonly __inputs?: unknown;
  readonly panels?: readonly Panel[];
  readonly links?: readonly Link[];
  readonly templating?: { readonly list?: readonly Variable[] };
}

async function readDashboards(): Promise<Map<string, Dashboard>> {
  const dir = new URL('dashboards/', GRAFANA);
  const files = (await readdir(dir)).filter((file) => file.endsWith('.json')).sort();
  const entries = await Promise.all(
    files.map(async (file) => [file, JSON.parse(await readFile(new URL(file, dir), 'utf8')) as Dashboard] as const),
  );
  return new Map(entries);
}

/** The panels that show data: every grid item but the rows, which only title the panels below them. */
function panelsOf(dashboard: Dashboard): readonly Panel[] {
  return gridItemsOf(dashboard).filter((panel) => panel.type !== 'row');
}

function rowsOf(dashboard: Dashboard): readonly Panel[] {
  return gridItemsOf(dashboard).filter((panel) => panel.type === 'row');
}

/** Panels and rows, as they lie on the grid. */
function gridItemsOf(dashboard: Dashboard): readonly Panel[] {
  return dashboard.panels ?? [];
}

/** The panels under a row, as Grafana groups them: below it on the grid and above the next row. */
function panelsUnderRow(dashboard: Dashboard, title: string): readonly Panel[] {
  const rows = rowsOf(dashboard);
  const row = rows.find((r) => r.title === title);
  assert.ok(row?.gridPos, `${dashboard.uid} has a row "${title}"`);
  const top = row.gridPos.y;
  const bottom = Math.min(...rows.map((r) => r.gridPos?.y ?? 0).filter((y) => y > top), Number.POSITIVE_INFINITY);
  return panelsOf(dashboard)
    .filter((panel) => (panel.gridPos?.y ?? -1) > top && (panel.gridPos?.y ?? -1) < bottom)
    .toSorted((a, b) => a.gridPos!.y - b.gridPos!.y || a.gridPos!.x - b.gridPos!.x);
}

function variablesOf(dashboard: Dashboard): readonly Variable[] {
  return dashboard.templating?.list ?? [];
}

function variableNamed(dashboard: Dashboard, name: string): Variable {
  const variable = variablesOf(dashboard).find((v) => v.name === name);
  assert.ok(variable, `${dashboard.uid} has a ${name} variable`);
  return variable;
}

/** The PromQL of a query variable, in either of the forms Grafana saves. */
function variableQuery(variable: Variable): string {
  if (typeof variable.query === 'string') return variable.query;
  const query = (variable.query as { query?: unknown } | undefined)?.query;
  return typeof query === 'string' ? query : '';
}

/** Every PromQL text of a dashboard: panel targets and query variables. */
function expressionsOf(dashboard: Dashboard): { where: string; expr: string }[] {
  const targets = panelsOf(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      where: `${dashboard.uid} panel "${panel.title}" ${target.refId}`,
      expr: target.expr ?? '',
    })),
  );
  const variables = variablesOf(dashboard)
    .filter((variable) => variable.type === 'query')
    .map((variable) => ({ where: `${dashboard.uid} variable ${variable.name}`, expr: variableQuery(variable) }));
  return [...targets, ...variables];
}

/** Every link URL of a dashboard: dashboard links, panel defaults and field overrides. */
function linksOf(dashboard: Dashboard): string[] {
  const panelLinks = panelsOf(dashboard).flatMap((panel) => [
    ...(panel.fieldConfig?.defaults?.links ?? []),
    ...(panel.fieldConfig?.overrides ?? []).flatMap((override) =>
      override.properties.filter((p) => p.id === 'links').flatMap((p) => p.value as readonly Link[]),
    ),
  ]);
  return [...(dashboard.links ?? []), ...panelLinks].map((link) => link.url ?? '');
}

/** Metric names the exporter exposes, read off the golden exposition (histograms add their series suffixes). */
async function readExportedMetricNames(): Promise<Set<string>> {
  const text = await readFile(GOLDEN_METRICS, 'utf8');
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

function overlaps(a: NonNullable<Panel['gridPos']>, b: NonNullable<Panel['gridPos']>): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe('Grafana dashboards', async () => {
  const dashboards = await readDashboards();
  const byUid = new Map([...dashboards.values()].map((d) => [d.uid ?? '', d]));

  it('ships exposure-overview and exposure-tenant, each file named after its fixed uid', () => {
    assert.deepEqual([...dashboards.keys()], ['exposure-overview.json', 'exposure-tenant.json']);
    for (const [file, dashboard] of dashboards) assert.equal(`${dashboard.uid}.json`, file);
  });

  it('has a title, a description and a current schema version, and needs no import inputs', () => {
    for (const dashboard of dashboards.values()) {
      assert.ok(dashboard.title?.trim(), `${dashboard.uid} has a title`);
      assert.ok(dashboard.description?.trim(), `${dashboard.uid} has a description`);
      assert.ok(
        (dashboard.schemaVersion ?? 0) >= MIN_SCHEMA_VERSION,
        `${dashboard.uid} schemaVersion ${dashboard.schemaVersion}`,
      );
      // Provisioning cannot answer __inputs, and a fixed id would clash with the importing Grafana's own.
      assert.equal(dashboard.__inputs, undefined, `${dashboard.uid} has no __inputs`);
      assert.equal(dashboard.id ?? null, null, `${dashboard.uid} has no fixed id`);
    }
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: names Grafana's variable.
  it('gives every panel a title, a description, a unit and the ${datasource} variable, on every target too', () => {
    for (const dashboard of dashboards.values()) {
      const panels = panelsOf(dashboard);
      assert.ok(panels.length >= 5, `${dashboard.uid} has panels`);
      for (const panel of panels) {
        const name = `${dashboard.uid} panel ${panel.id} "${panel.title}"`;
        assert.ok(panel.title?.trim(), `${name} has a title`);
        assert.ok(panel.description?.trim(), `${name} has a description`);
        assert.ok(panel.fieldConfig?.defaults?.unit?.trim(), `${name} has a unit`);
        assert.deepEqual(panel.datasource, DATASOURCE, `${name} datasource`);
        const targets = panel.targets ?? [];
        assert.ok(targets.length > 0, `${name} has targets`);
        for (const target of targets) {
          assert.deepEqual(target.datasource, DATASOURCE, `${name} target ${target.refId} datasource`);
          assert.ok(target.expr?.trim(), `${name} target ${target.refId} has an expression`);
        }
        assert.equal(new Set(targets.map((t) => t.refId)).size, targets.length, `${name} refIds are unique`);
      }
    }
  });

  it('numbers panels uniquely and lays them out on the 24-column grid without overlaps', () => {
    for (const dashboard of dashboards.values()) {
      const panels = gridItemsOf(dashboard);
      assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, `${dashboard.uid} panel ids are unique`);
      for (const [i, panel] of panels.entries()) {
        const grid = panel.gridPos;
        assert.ok(grid, `${dashboard.uid} panel ${panel.id} has a gridPos`);
        assert.ok(
          grid.x >= 0 && grid.w > 0 && grid.x + grid.w <= 24 && grid.h > 0,
          `${dashboard.uid} panel ${panel.id} fits the grid`,
        );
        for (const other of panels.slice(i + 1)) {
          assert.ok(!overlaps(grid, other.gridPos!), `${dashboard.uid} panels ${panel.id} and ${other.id} overlap`);
        }
      }
    }
  });

  it('hard-codes no job or instance: job only ever matches $job, instance not at all', () => {
    for (const dashboard of dashboards.values()) {
      for (const { where, expr } of expressionsOf(dashboard)) {
        for (const [matcher, label, value] of expr.matchAll(/\b(job|instance)\s*(?:=~|!~|!=|=)\s*"([^"]*)"/g)) {
          assert.ok(label === 'job' && value === '$job', `${where}: ${matcher}`);
        }
      }
      for (const url of linksOf(dashboard))
        assert.doesNotMatch(url, /var-(job|instance)=[^$&]/, `${dashboard.uid} link ${url}`);
    }
  });

  it('queries only metrics the exporter exposes', async () => {
    const exported = await readExportedMetricNames();
    for (const metric of HISTORY_METRICS_NOT_YET_GOLDEN) {
      assert.ok(!exported.has(metric), `${metric} is in the golden exposition now: remove it from the pending list`);
    }
    const known = new Set([...exported, ...HISTORY_METRICS_NOT_YET_GOLDEN]);
    for (const dashboard of dashboards.values()) {
      for (const { where, expr } of expressionsOf(dashboard)) {
        const metrics = expr.match(/\bexposure_[a-z_]+\b/g) ?? [];
        assert.ok(metrics.length > 0, `${where} queries an exposure_ metric`);
        for (const metric of metrics) assert.ok(known.has(metric), `${where}: ${metric} is not exported`);
      }
    }
  });

  it('keeps every row expanded and empty, so each panel lies on the grid where these checks see it', () => {
    for (const dashboard of dashboards.values()) {
      for (const row of rowsOf(dashboard)) {
        const name = `${dashboard.uid} row ${row.id} "${row.title}"`;
        assert.ok(row.title?.trim(), `${name} has a title`);
        assert.equal(row.collapsed, false, `${name} is expanded`);
        assert.deepEqual(row.panels, [], `${name} holds no panels of its own (a collapsed row's)`);
        assert.deepEqual(
          [row.gridPos?.x, row.gridPos?.w, row.gridPos?.h],
          [0, 24, 1],
          `${name} spans the grid, one unit high`,
        );
        assert.equal(row.targets, undefined, `${name} queries nothing`);
      }
    }
  });

  it('shows time to remediate in a row of its own, computed from the ticket counters over the dashboard range', () => {
    for (const dashboard of dashboards.values()) {
      const panels = panelsUnderRow(dashboard, 'Time to remediate');
      assert.deepEqual(
        panels.map((p) => p.title),
        REMEDIATION_PANELS[dashboard.uid ?? ''],
        `${dashboard.uid}'s Time to remediate row`,
      );
      for (const panel of panels.filter((p) => p.title?.startsWith('Mean time to remediate'))) {
        const expr = panel.targets?.[0]?.expr ?? '';
        // The open time of the tickets closed in the range over their number: both counters with the same
        // selector over the same range, summed by the same labels, and no division by a range without any.
        assert.match(
          expr,
          /sum by \(([\w, ]+)\) \(increase\(exposure_tickets_open_seconds_total(\{[^}]*\})\[\$__range\]\)\)\s+\/\s+\(sum by \(\1\) \(increase\(exposure_tickets_closed_total\2\[\$__range\]\)\) > 0\)/,
          `${panel.title} divides the open time by the number of tickets closed in the range`,
        );
        const unit =
          panel.type === 'table'
            ? panel.fieldConfig?.overrides
                ?.find((o) => o.matcher.options === 'Mean time to remediate')
                ?.properties.find((p) => p.id === 'unit')?.value
            : panel.fieldConfig?.defaults?.unit;
        assert.equal(unit, 's', `${panel.title} shows seconds`);
      }
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          const expr = target.expr ?? '';
          const where = `${dashboard.uid} "${panel.title}" ${target.refId}`;
          const perTenant = /exposure_tickets_\w+\{/.test(expr);
          if (dashboard.uid === 'exposure-overview') {
            assert.match(expr, /severity=~"\$severity"/, `${where} honours the severity filter`);
            // The oldest ticket and the target are per severity only: no tenant to filter.
            if (perTenant) assert.match(expr, /tenant=~"\$tenant"/, `${where} honours the tenant filter`);
          } else {
            assert.ok(perTenant, `${where} reads the tenant's tickets`);
            for (const selector of expr.match(/exposure_tickets_\w+\{[^}]*\}/g) ?? [])
              assert.match(selector, /tenant="\$tenant"/, `${where}: ${selector} selects the tenant`);
          }
        }
      }
    }
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: names Grafana's variable.
  it('defines every variable it uses, each query variable on ${datasource}', () => {
    for (const dashboard of dashboards.values()) {
      const defined = new Set(variablesOf(dashboard).map((v) => v.name));
      const texts = [...expressionsOf(dashboard).map((e) => e.expr), ...linksOf(dashboard)];
      for (const text of texts) {
        for (const [, braced, bare] of text.matchAll(/\$\{([\w.]+)(?::\w+)?\}|\$(\w+)/g)) {
          const name = braced ?? bare ?? '';
          if (name.startsWith('__')) continue;
          assert.ok(defined.has(name), `${dashboard.uid} uses an undefined variable $${name} in ${text}`);
        }
      }
      const datasource = variableNamed(dashboard, 'datasource');
      assert.equal(datasource.type, 'datasource');
      assert.equal(datasource.query, 'prometheus');
      for (const variable of variablesOf(dashboard).filter((v) => v.type === 'query')) {
        assert.deepEqual(variable.datasource, DATASOURCE, `${dashboard.uid} variable ${variable.name} datasource`);
      }
      const job = variableNamed(dashboard, 'job');
      assert.equal(variableQuery(job), 'label_values(exposure_build_info, job)');
    }
  });

  it('lets the overview filter by several tenants and severities, "All" matching everything', () => {
    const overview = byUid.get('exposure-overview')!;
    const tenant = variableNamed(overview, 'tenant');
    assert.equal(tenant.type, 'query');
    assert.equal(variableQuery(tenant), 'label_values(exposure_port_open{job=~"$job"}, tenant)');
    const severity = variableNamed(overview, 'severity');
    assert.equal(severity.type, 'custom');
    assert.equal(severity.query, SEVERITIES.join(','));
    assert.deepEqual(
      severity.options?.map((o) => o.value),
      ['$__all', ...SEVERITIES],
    );
    for (const variable of [tenant, severity]) {
      assert.equal(variable.multi, true, `${variable.name} is multi-value`);
      assert.equal(variable.includeAll, true, `${variable.name} has "All"`);
      // ".*" rather than Grafana's default list of every value, so "All" also matches an empty (unknown) owner.
      assert.equal(variable.allValue, '.*', `${variable.name} "All" value`);
    }
    const filtered = expressionsOf(overview).filter(({ expr }) => expr.includes('exposure_port_open{'));
    for (const { where, expr } of filtered.filter((e) => e.where.includes('panel'))) {
      assert.match(expr, /tenant=~"\$tenant"/, `${where} honours the tenant filter`);
      assert.match(expr, /severity=~"\$severity"/, `${where} honours the severity filter`);
    }
  });

  it('drills down to one tenant on the tenant dashboard', () => {
    const tenantDashboard = byUid.get('exposure-tenant')!;
    const tenant = variableNamed(tenantDashboard, 'tenant');
    assert.equal(tenant.multi ?? false, false, 'the drill-down shows one tenant');
    assert.equal(variableQuery(tenant), 'label_values(exposure_vm_info{job=~"$job"}, tenant)');
  });

  it('links only to dashboards that exist, with variables they define', () => {
    const exposureTables = panelsOf(byUid.get('exposure-overview')!).filter((panel) =>
      EXPOSURE_TABLES['exposure-overview']!.includes(panel.title ?? ''),
    );
    assert.equal(exposureTables.length, EXPOSURE_TABLES['exposure-overview']!.length);
    for (const table of exposureTables) {
      const tenantColumnLinks = (table.fieldConfig?.overrides ?? [])
        .filter((override) => override.matcher.options === 'Tenant')
        .flatMap((override) =>
          override.properties.filter((p) => p.id === 'links').flatMap((p) => p.value as readonly Link[]),
        );
      assert.equal(tenantColumnLinks.length, 1, `the tenant column of "${table.title}" has one data link`);
      assert.match(tenantColumnLinks[0]?.url ?? '', /^\/d\/exposure-tenant\/[^?]*\?.*var-tenant=\$\{__value\.text\}/);
      assert.match(
        tenantColumnLinks[0]?.url ?? '',
        /\$\{datasource:queryparam\}/,
        'the drill-down keeps the datasource',
      );
    }

    for (const dashboard of dashboards.values()) {
      for (const url of linksOf(dashboard)) {
        const match = /^\/d\/([^/?]+)/.exec(url);
        assert.ok(match, `${dashboard.uid} link ${url} points at a dashboard`);
        const target = byUid.get(match[1]!);
        assert.ok(target, `${dashboard.uid} link ${url}: no dashboard with uid ${match[1]}`);
        const defined = new Set(variablesOf(target).map((v) => v.name));
        for (const [, name] of url.matchAll(/var-(\w+)=/g))
          assert.ok(defined.has(name!), `${url}: ${target.uid} has no ${name} variable`);
        for (const [, name] of url.matchAll(/\$\{(\w+):queryparam\}/g))
          assert.ok(defined.has(name!), `${url}: ${target.uid} has no ${name} variable`);
      }
    }
  });

  it('shows exposures in tables with the owner columns, sorted by severity rank then first seen, severity coloured', () => {
    for (const dashboard of dashboards.values()) {
      const tables = panelsOf(dashboard).filter(
        (p) => p.type === 'table' && (p.targets ?? []).some((t) => t.expr?.includes('exposure_port_open')),
      );
      assert.deepEqual(
        tables.map((t) => t.title),
        EXPOSURE_TABLES[dashboard.uid ?? ''],
        `${dashboard.uid} has one table of all exposures, then the two of its own`,
      );
      for (const table of tables) {
        const target = table.targets![0]!;
        assert.equal(target.format, 'table');
        assert.equal(target.instant, true);
        assert.deepEqual(
          (table.transformations ?? [])
            .filter((t) => t.id === 'sortBy')
            .map((t) => (t.options['sort'] as { field: string }[])[0]?.field),
          ['Value', 'severity_rank'],
          'a stable sort on first seen, then on severity rank',
        );
        SEVERITIES.forEach((severity, i) => {
          assert.ok(
            target.expr?.includes(`"severity_rank", "${i + 1}", "severity", "${severity}")`),
            `${severity} ranks ${i + 1}`,
          );
        });
        const organize = table.transformations?.find((t) => t.id === 'organize')?.options as {
          renameByName: Record<string, string>;
        };
        const columns = Object.values(organize.renameByName);
        for (const column of ['IP', 'Port', 'Service', 'Severity', 'VM', 'User', 'First seen'])
          assert.ok(columns.includes(column), `${table.title} shows ${column}`);
        if (dashboard.uid === 'exposure-overview')
          assert.ok(columns.includes('Tenant'), 'the overview shows the tenant');
        const severity = table.fieldConfig?.overrides?.find((o) => o.matcher.options === 'Severity');
        const mappings = severity?.properties.find((p) => p.id === 'mappings')?.value as {
          options: Record<string, { color: string }>;
        }[];
        assert.deepEqual(Object.keys(mappings[0]?.options ?? {}), SEVERITIES, 'every severity has a colour');
        const firstSeen = table.fieldConfig?.overrides?.find((o) => o.matcher.options === 'First seen');
        assert.deepEqual(firstSeen?.properties, [{ id: 'unit', value: 'dateTimeAsIso' }]);
      }
    }
  });

  it('lists UDP amplifiers: the UDP ports rated high or medium, as ExposureUdpAmplifier selects them', () => {
    for (const dashboard of dashboards.values()) {
      const table = panelsOf(dashboard).find((p) => p.title === 'UDP amplifiers');
      assert.equal(table?.type, 'table', `${dashboard.uid} has a UDP amplifiers table`);
      const expr = table.targets?.[0]?.expr ?? '';
      assert.match(expr, /exposure_port_open\{job=~"\$job", protocol="udp", severity=~"high\|medium", tenant=/);
      assert.match(table.description ?? '', /reflected DDoS/);
    }
  });

  it('lists unauthenticated services with the owner labels of their open port', () => {
    for (const dashboard of dashboards.values()) {
      const table = panelsOf(dashboard).find((p) => p.title === 'Unauthenticated services');
      assert.equal(table?.type, 'table', `${dashboard.uid} has an Unauthenticated services table`);
      const expr = table.targets?.[0]?.expr ?? '';
      // The owner columns come from exposure_port_open; the unauthenticated series only selects which ports.
      assert.match(
        expr,
        /group_left\(service, severity, vm_id, vm_name, user, tenant\)\n\s+\(\n\s+exposure_port_open\{job=~"\$job", tenant/,
      );
      assert.match(
        expr,
        /and on\(job, instance, ip, port, protocol\) exposure_port_unauthenticated\{job=~"\$job"\} == 1/,
      );
      assert.match(table.description ?? '', /without credentials/);
    }
  });
});

describe('Grafana provisioning files', () => {
  it('provision the dashboards from the directory the README copies them to', async () => {
    const dir = new URL('provisioning/dashboards/', GRAFANA);
    const files = (await readdir(dir)).filter((file) => file.endsWith('.yml'));
    assert.deepEqual(files, ['exposure-exporter.yml']);
    const config = parseYaml(await readFile(new URL(files[0]!, dir), 'utf8')) as {
      apiVersion: number;
      providers: { name: string; type: string; options: { path: string } }[];
    };
    assert.equal(config.apiVersion, 1);
    assert.equal(config.providers.length, 1);
    const provider = config.providers[0]!;
    assert.equal(provider.type, 'file');
    assert.match(provider.options.path, /^\//, 'an absolute path, as Grafana resolves it');
    const readme = await readFile(README, 'utf8');
    assert.ok(
      readme.includes(`grafana/dashboards/*.json ${provider.options.path}`),
      `the README copies the dashboards to ${provider.options.path}`,
    );
  });

  it('provision a Prometheus datasource', async () => {
    const dir = new URL('provisioning/datasources/', GRAFANA);
    const files = (await readdir(dir)).filter((file) => file.endsWith('.yml'));
    assert.deepEqual(files, ['prometheus.yml']);
    const config = parseYaml(await readFile(new URL(files[0]!, dir), 'utf8')) as {
      apiVersion: number;
      datasources: { type: string; url: string; access: string; jsonData: { timeInterval: string } }[];
    };
    assert.equal(config.apiVersion, 1);
    assert.equal(config.datasources.length, 1);
    const datasource = config.datasources[0]!;
    assert.equal(datasource.type, 'prometheus');
    assert.equal(datasource.access, 'proxy');
    assert.match(datasource.url, /^https?:\/\//);
    assert.match(datasource.jsonData.timeInterval, /^\d+[smh]$/, 'the scrape interval, for $__rate_interval');
  });
});
