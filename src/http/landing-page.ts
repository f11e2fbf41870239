/** The page on `/`: what this is, where the data is, and how the last cycle went. */
import type { ExporterState } from '../core/exporter-state.ts';
import type { InventoryHealth, ScanHealth } from '../core/health.ts';
import { summarizeHosts } from '../core/snapshot.ts';
import type { BuildInfo } from '../metrics/collectors.ts';

export function renderLandingPage(input: { state: ExporterState; build: BuildInfo }): string {
  const { state, build } = input;
  const rows: [string, string][] = [
    ['Version', `${build.version} (revision ${build.revision}, nmap ${build.nmapVersion}, Node.js ${build.nodejsVersion})`],
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
      ['Results from', `${snapshot.scan.finishedAt.toISOString()}${state.restored && !attempt ? ' (restored from the state file)' : ''}`],
      ['Open ports', `${summary.openPorts} (${summary.nonstandardPorts} nonstandard, ${summary.exceptedPorts} excepted)`],
      ['Suspicious addresses', String(summary.suspiciousHosts)],
    );
  } else {
    rows.push(['Results', 'none yet: the first cycle is running']);
  }
  const table = rows.map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>exposure-exporter</title></head>
<body>
<h1>exposure-exporter</h1>
<p>Finds addresses that expose more than ssh, http and https, and names their owners.</p>
<ul>
<li><a href="metrics">Metrics</a></li>
<li><a href="report">Report (JSON)</a> · <a href="report?suspicious=true">suspicious only</a></li>
<li><a href="-/healthy">Health</a> · <a href="-/ready">Readiness</a></li>
</ul>
<table>
${table}
</table>
</body>
</html>
`;
}

function describeProgress(scan: ScanHealth): string {
  return scan.inProgress ? `yes, about ${Math.round(scan.progress * 100)}%` : 'no';
}

function describeInventory(health: InventoryHealth): string {
  const { lastGood: inventory, up } = health;
  const state = up === undefined ? 'not read yet' : up ? 'up' : 'down, using the last good read';
  const synced = inventory.syncedAt ? `, ${inventory.servers} servers, ${inventory.owners.size} addresses, read ${inventory.syncedAt.toISOString()}` : '';
  return `${state}${synced}`;
}

function describeTargets(state: ExporterState): string {
  const { scan } = state.config.settings;
  const shard = scan.shard.count > 1 ? `, shard ${scan.shard.index}/${scan.shard.count} of ${scan.targets.count}` : '';
  return `${scan.targetSpecs.join(', ')} (${state.config.plan.targets.count()} addresses${shard})`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
