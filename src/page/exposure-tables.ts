// The page's exposure tables: a section per tenant of nonstandard open ports and one of latent exposures, each row
// saying who to ask and which rule to change. Every value goes through escapeHtml.
import type { AddressOwner } from '../inventory/inventory.ts';
import { compareHosts } from '../exposure/snapshot.ts';
import type { AdmittingRule, LatentExposure, SnapshotHost, SnapshotPort } from '../exposure/snapshot.ts';
import type { Severity } from '../exposure/severity.ts';
import type { Protocol } from '../net/port-spec.ts';
import { buildMailtoHref, escapeHtml } from './html.ts';

interface ExposureRow {
  readonly ip: string;
  readonly owner: AddressOwner;
  readonly port: number | 'all';
  readonly protocol: Protocol;
  readonly service: string;
  readonly serviceDetail: readonly string[];
  readonly severity: Severity | null;
  readonly firstSeen: string;
  readonly ruleToChange: readonly string[];
}

interface TenantGroup<T> {
  readonly tenant: string;
  readonly tenantId: string;
  readonly items: T[];
}

const COLUMNS = ['VM', 'Owner', 'Address', 'Port', 'Service', 'Severity', 'First seen', 'Rule to change'];
const NOT_LISTENING = 'not listening yet';
const NO_CREDENTIALS = 'answers without credentials';

export function renderTenantSections(hosts: readonly SnapshotHost[]): string {
  const rows = hosts.flatMap((host) =>
    host.ports.filter((port) => port.class === 'nonstandard').map((port) => openPortRow(host, port)),
  );
  if (rows.length === 0) return '<p class="empty">No nonstandard open ports match this view.</p>';
  return groupByTenant(rows)
    .map(
      (group) => `<section class="tenant">
<h3>${renderTenantHeading(group)}</h3>
${renderTable(group.items)}
</section>`,
    )
    .join('\n');
}

export function renderLatentSection(latent: readonly LatentExposure[]): string {
  const intro =
    '<p>Security group rules that admit a high or critical port from anywhere on a public address, where nothing answers yet: the next service started there is exposed at once.</p>';
  if (latent.length === 0) return `${intro}\n<p class="empty">No latent exposures match this view.</p>`;
  const ordered = [...latent].sort(
    (a, b) => compareHosts(a, b) || comparePorts(a.port, b.port) || a.protocol.localeCompare(b.protocol),
  );
  const rows = groupByTenant(ordered.map(latentRow)).flatMap((group) => group.items.map((row) => ({ row, group })));
  const body = rows.map(({ row, group }) => renderRow(row, `<td>${renderTenantCell(group)}</td>`)).join('\n');
  return `${intro}
<table class="latent">
<thead><tr>${['Tenant', ...COLUMNS].map((name) => `<th>${escapeHtml(name)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

/** What an owner or operator changes to close the exposure, as plain lines (escaped where rendered). */
export function describeRuleToChange(port: Pick<SnapshotPort, 'admittedBy' | 'portSecurity'>): string[] {
  if (port.portSecurity === false) return ['port security off'];
  if (port.admittedBy.length > 0) return port.admittedBy.map(describeAdmittingRule);
  if (port.portSecurity === true) return ["no world-open rule (reachable from the scanner's network only)"];
  return ['unknown'];
}

function describeAdmittingRule(rule: AdmittingRule): string {
  return `${rule.securityGroup || rule.securityGroupId} / ${rule.ruleId} (${rule.remote})`;
}

/** A latent exposure names its rule; one with neither group nor rule comes from a port without port security. */
function describeLatentRule(latent: LatentExposure): string[] {
  if (latent.ruleId === '' && latent.securityGroupId === '') return ['port security off'];
  return [`${latent.securityGroup || latent.securityGroupId} / ${latent.ruleId}`];
}

function openPortRow(host: SnapshotHost, port: SnapshotPort): ExposureRow {
  return {
    ip: host.ip,
    owner: host.owner,
    port: port.port,
    protocol: port.protocol,
    service: port.service,
    serviceDetail: describeDetection(port),
    severity: port.severity,
    firstSeen: formatTime(port.firstSeen),
    ruleToChange: describeRuleToChange(port),
  };
}

function describeDetection(port: SnapshotPort): string[] {
  if (!port.detected) return [];
  const product = [port.detected.product, port.detected.version].filter((part) => part !== '').join(' ');
  return [...(product === '' ? [] : [product]), ...(port.detected.unauthenticated ? [NO_CREDENTIALS] : [])];
}

function latentRow(latent: LatentExposure): ExposureRow {
  return {
    ip: latent.ip,
    owner: latent.owner,
    port: latent.port,
    protocol: latent.protocol,
    service: NOT_LISTENING,
    serviceDetail: [],
    severity: latent.severity,
    firstSeen: NOT_LISTENING,
    ruleToChange: describeLatentRule(latent),
  };
}

/** Keyed by tenant name and id together, so two projects that share a name stay apart. */
function groupByTenant<T extends { owner: AddressOwner }>(items: readonly T[]): TenantGroup<T>[] {
  const groups = new Map<string, TenantGroup<T>>();
  for (const item of items) {
    const { tenant, tenantId } = item.owner;
    const key = JSON.stringify([tenant, tenantId]);
    const group = groups.get(key) ?? { tenant, tenantId, items: [] };
    group.items.push(item);
    groups.set(key, group);
  }
  return [...groups.values()].sort(compareTenants);
}

function compareTenants(a: { tenant: string; tenantId: string }, b: { tenant: string; tenantId: string }): number {
  const left = a.tenant || a.tenantId;
  const right = b.tenant || b.tenantId;
  if ((left === '') !== (right === '')) return left === '' ? 1 : -1;
  return left.localeCompare(right, 'en') || a.tenantId.localeCompare(b.tenantId, 'en');
}

function comparePorts(a: number | 'all', b: number | 'all'): number {
  return (a === 'all' ? 65536 : a) - (b === 'all' ? 65536 : b);
}

function renderTenantHeading(group: { tenant: string; tenantId: string }): string {
  if (group.tenant === '' && group.tenantId === '')
    return 'No tenant <span class="muted">(addresses no inventory knows)</span>';
  if (group.tenant === '') return escapeHtml(group.tenantId);
  const id =
    group.tenantId !== '' && group.tenantId !== group.tenant
      ? ` <span class="muted">${escapeHtml(group.tenantId)}</span>`
      : '';
  return `${escapeHtml(group.tenant)}${id}`;
}

function renderTenantCell(group: { tenant: string; tenantId: string }): string {
  if (group.tenant === '' || group.tenantId === '' || group.tenant === group.tenantId)
    return renderTenantHeading(group);
  return `<span title="${escapeHtml(group.tenantId)}">${escapeHtml(group.tenant)}</span>`;
}

function renderTable(rows: readonly ExposureRow[]): string {
  return `<table class="exposures">
<thead><tr>${COLUMNS.map((name) => `<th>${escapeHtml(name)}</th>`).join('')}</tr></thead>
<tbody>
${rows.map((row) => renderRow(row, '')).join('\n')}
</tbody>
</table>`;
}

function renderRow(row: ExposureRow, leadingCells: string): string {
  const severity = row.severity ?? '';
  const cells = [
    renderVm(row.owner),
    renderOwner(row.owner),
    `<code>${escapeHtml(row.ip)}</code>`,
    `${escapeHtml(String(row.port))}/${escapeHtml(row.protocol)}`,
    [
      escapeHtml(row.service),
      ...row.serviceDetail.map((line) => `<span class="muted">${escapeHtml(line)}</span>`),
    ].join('<br>'),
    severity === '' ? '' : `<span class="severity ${escapeHtml(severity)}">${escapeHtml(severity)}</span>`,
    escapeHtml(row.firstSeen),
    row.ruleToChange.map(escapeHtml).join('<br>'),
  ];
  return `<tr>${leadingCells}${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
}

function renderVm(owner: AddressOwner): string {
  const name = owner.vmName || owner.vmId || owner.ownerKind;
  if (name === '') return '<span class="muted">unknown</span>';
  const title =
    owner.vmId !== '' ? ` title="${escapeHtml(`${owner.vmId}${owner.vmStatus ? `, ${owner.vmStatus}` : ''}`)}"` : '';
  return `<span${title}>${escapeHtml(name)}</span>`;
}

function renderOwner(owner: AddressOwner): string {
  const user = owner.user || owner.userId;
  const name = user === '' ? '<span class="muted">unknown</span>' : escapeHtml(user);
  if (owner.userEmail === '') return name;
  const href = buildMailtoHref(owner.userEmail);
  const email =
    href === undefined
      ? escapeHtml(owner.userEmail)
      : `<a href="${escapeHtml(href)}">${escapeHtml(owner.userEmail)}</a>`;
  return `${name}<br>${email}`;
}

function formatTime(time: Date): string {
  return `${time.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
