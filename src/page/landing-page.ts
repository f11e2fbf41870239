// The page on `/`, server-rendered without JavaScript: app.ts serves it with a Content-Security-Policy that forbids
// scripts, a second line of defence behind escapeHtml.
import type { ExporterState } from '../state/exporter-state.ts';
import type { InventoryHealth, ScanHealth } from '../state/health.ts';
import { filterHosts } from '../report/report.ts';
import type { ReportFilter } from '../report/report.ts';
import { summarizeHosts } from '../exposure/snapshot.ts';
import type { LatentExposure, Snapshot } from '../exposure/snapshot.ts';
import type { BuildInfo } from '../metrics/collectors.ts';
import { renderLatentSection, renderTenantSections } from './exposure-tables.ts';
import { renderFilterLinks } from './filter-links.ts';
import { renderHistorySections } from './history-sections.ts';
import type { HistorySource } from './history-sections.ts';
import type { TenantChoice } from './filter-links.ts';
import { escapeHtml } from './html.ts';

/** Small and inline: the Content-Security-Policy allows inline styles and nothing else. */
const STYLESHEET = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em 2em; color: #1b1b1b; }
h1 { margin-bottom: 0.2em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
h3 { margin: 1.2em 0 0.4em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 3px 8px; border-bottom: 1px solid #e3e3e3; overflow-wrap: anywhere; }
table.exposures, table.latent { table-layout: fixed; }
th { overflow-wrap: normal; }
table.exposures th:nth-child(1) { width: 12%; } table.exposures th:nth-child(2) { width: 15%; }
table.exposures th:nth-child(3) { width: 10%; } table.exposures th:nth-child(4) { width: 7%; }
table.exposures th:nth-child(5) { width: 8%; } table.exposures th:nth-child(6) { width: 7%; }
table.exposures th:nth-child(7) { width: 15%; } table.exposures th:nth-child(8) { width: 26%; }
table.latent th:nth-child(1) { width: 9%; } table.latent th:nth-child(2) { width: 11%; }
table.latent th:nth-child(3) { width: 14%; } table.latent th:nth-child(4) { width: 10%; }
table.latent th:nth-child(5) { width: 7%; } table.latent th:nth-child(6) { width: 8%; }
table.latent th:nth-child(7) { width: 7%; } table.latent th:nth-child(8) { width: 8%; }
table.latent th:nth-child(9) { width: 26%; }
thead th { background: #f2f2f2; }
table.health { width: auto; }
table.health td, table.health th { border-bottom: none; padding: 1px 8px; }
table.health th { font-weight: normal; color: #555; }
code { font: 13px ui-monospace, monospace; }
.muted { color: #777; font-weight: normal; }
.severity { font-weight: bold; }
.critical { color: #b00020; }
.high { color: #c45500; }
.medium { color: #8a6d00; }
.low { color: #555; }
nav.filters p { margin: 0.3em 0; }
nav.filters b[aria-current] { background: #e8eefc; padding: 0 4px; }
`;

/** `history` is absent with history disabled, and so is the page's history part; `now` ends its 7-day window. */
export function renderLandingPage(input: {
  state: ExporterState;
  build: BuildInfo;
  filter?: ReportFilter;
  history?: HistorySource | undefined;
  now?: Date;
}): string {
  const { state, build, history } = input;
  const filter = input.filter ?? {};
  const snapshot = state.snapshot;
  const historyPart = history ? `\n${renderHistorySections({ history, filter, now: input.now ?? new Date() })}` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>exposure-exporter</title>
<style>${STYLESHEET}</style></head>
<body>
<h1>exposure-exporter</h1>
<p>Finds addresses that expose more than ssh, http and https, and names their owners.</p>
<ul>
<li><a href="metrics">Metrics</a></li>
<li><a href="report">Report (JSON)</a> · <a href="report?suspicious=true">suspicious only</a></li>
<li><a href="-/healthy">Health</a> · <a href="-/ready">Readiness</a></li>
</ul>
<table class="health">
${renderHealthRows(state, build)}
</table>
${snapshot ? renderExposures(snapshot, filter) : ''}${historyPart}
</body>
</html>
`;
}

function renderExposures(snapshot: Snapshot, filter: ReportFilter): string {
  const tenants: TenantChoice[] = [
    ...snapshot.hosts.filter((host) => host.suspicious).map((host) => host.owner),
    ...snapshot.latent.map((latent) => latent.owner),
  ];
  return `<h2>Exposures by tenant</h2>
${renderFilterLinks({ filter, tenants })}
${renderTenantSections(filterHosts(snapshot.hosts, filter))}
<h2>Latent exposures</h2>
${renderLatentSection(filterLatent(snapshot.latent, filter))}`;
}

/** `suspicious` is about ports that answered, so it leaves latent ones, which by definition did not, alone. */
export function filterLatent(latent: readonly LatentExposure[], filter: ReportFilter): LatentExposure[] {
  return latent.filter(
    ({ owner, severity }) =>
      (filter.tenant === undefined || owner.tenant === filter.tenant || owner.tenantId === filter.tenant) &&
      (filter.severities === undefined || filter.severities.includes(severity)),
  );
}

function renderHealthRows(state: ExporterState, build: BuildInfo): string {
  const rows: [string, string][] = [
    [
      'Version',
      `${build.version} (revision ${build.revision}, nmap ${build.nmapVersion}, Node.js ${build.nodejsVersion})`,
    ],
    ['Targets', describeTargets(state)],
    ['Scan in progress', describeProgress(state.health.scan)],
  ];
  if (state.config.settings.openstack) {
    rows.push(['OpenStack inventory', describeInventory(state.health.inventory)]);
  }
  const attempt = state.health.scan.lastAttempt;
  if (attempt) {
    const outcome = attempt.success ? 'succeeded' : `failed: ${attempt.error?.message ?? 'unknown error'}`;
    rows.push(['Last cycle', `#${attempt.cycle} ${outcome}, finished ${attempt.finishedAt.toISOString()}`]);
  }
  const snapshot = state.snapshot;
  if (snapshot) {
    const summary = summarizeHosts(snapshot.hosts);
    rows.push(
      [
        'Results from',
        `${snapshot.scan.finishedAt.toISOString()}${state.restored && !attempt ? ' (restored from the state file)' : ''}`,
      ],
      [
        'Open ports',
        `${summary.openPorts} (${summary.nonstandardPorts} nonstandard, ${summary.exceptedPorts} excepted)`,
      ],
      ['Suspicious addresses', String(summary.suspiciousHosts)],
      ['Latent exposures', String(snapshot.latent.length)],
    );
  } else {
    rows.push(['Results', 'none yet: the first cycle is running']);
  }
  return rows.map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`).join('\n');
}

function describeProgress(scan: ScanHealth): string {
  return scan.inProgress ? `yes, about ${Math.round(scan.progress * 100)}%` : 'no';
}

function describeInventory(health: InventoryHealth): string {
  const { lastGood: inventory, up } = health;
  const state = up === undefined ? 'not read yet' : up ? 'up' : 'down, using the last good read';
  const synced = inventory.syncedAt
    ? `, ${inventory.servers} servers, ${inventory.owners.size} addresses, read ${inventory.syncedAt.toISOString()}`
    : '';
  return `${state}${synced}`;
}

function describeTargets(state: ExporterState): string {
  const { scan } = state.config.settings;
  const shard = scan.shard.count > 1 ? `, shard ${scan.shard.index}/${scan.shard.count} of ${scan.targets.count}` : '';
  return `${scan.targetSpecs.join(', ')} (${state.config.plan.targets.count()} addresses${shard})`;
}
