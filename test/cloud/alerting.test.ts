/**
 * The alerting chain end to end, every piece real: the built exporter scanning with real nmap and naming
 * owners from the seeded OpenStack lab, Debian's Prometheus scraping it with the shipped rules, Debian's
 * Alertmanager with the shipped config, and a local SMTP server and webhook standing in for the mail relay
 * and the pager. Everything listens on loopback ports the OS picked, and the test stops all of it.
 *
 * Where this departs from the shipped files, on parsed copies and for time only:
 * - every rule's `for:` is 2s instead of 5m–90m (they are sized for an hourly scan);
 * - every route's group_wait and group_interval are 1s instead of minutes to a day;
 * - the SMTP smarthost and the webhook URL point at this test's receivers, without SMTP auth or TLS.
 * Recipients, matchers, grouping, inhibitions and templates are the shipped ones.
 *
 * The owner's mail goes to the email Keystone holds for the VM's user, through the shipped owner route.
 *
 * The exposures are loopback listeners on the lab's floating and provider addresses (127.42.0.0/24 and
 * 127.43.0.0/24, loopback ranges on purpose), not VMs in the network-namespace lab: the VM, user and tenant
 * names the mails must carry exist only in the OpenStack inventory, and this keeps nmap inside 127.0.0.0/8.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAlertmanager } from '../support/alertmanager.ts';
import { renderAlertmanagerConfigForTest, renderRulesForTest } from '../support/alerting-config.ts';
import { startExporter } from '../support/exporter-process.ts';
import type { ExporterProcess } from '../support/exporter-process.ts';
import { samplesNamed } from '../support/exposition.ts';
import { readSeed, renderCloudsYaml, renderLabExporterConfig } from '../support/openstack-lab.ts';
import type { Seed } from '../support/openstack-lab.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { startSmtpReceiver } from '../support/smtp-receiver.ts';
import type { ReceivedMail, SmtpReceiver } from '../support/smtp-receiver.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';
import { openTcpListener } from '../support/tcp-listener.ts';

const PORTS = [2375, 6379];
/** alice's email attribute in the seeded Keystone (test/openstack/seed.py); carol has none. */
const ALICE_EMAIL = 'alice@example.test';
const DEADLINE_MS = 120_000;

interface Exposure {
  readonly ip: string;
  readonly port: number;
  readonly severity: string;
  readonly vm: string;
  readonly user: string;
  readonly tenant: string;
}

/** The two exposures this test opens, with the owner the lab says each has. */
function plannedExposures(seed: Seed): { high: Exposure; critical: Exposure } {
  const provider = seed.provider_addresses['gamma-edge-1']?.[0];
  if (!provider?.startsWith('127.43.'))
    throw new Error(`gamma-edge-1 has no provider address in 127.43.0.0/24: ${provider}`);
  return {
    high: { ip: '127.42.0.11', port: 6379, severity: 'high', vm: 'alpha-web-1', user: 'alice', tenant: 'alpha' },
    critical: { ip: provider, port: 2375, severity: 'critical', vm: 'gamma-edge-1', user: 'carol', tenant: 'gamma' },
  };
}

/** Prometheus's humanizeTimestamp: Go's time.Time String() in UTC, at millisecond precision as Prometheus keeps it. */
function formatLikeHumanizeTimestamp(seconds: number): string {
  const ms = BigInt(Math.trunc(seconds * 1e9)) / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  const [date, time] = iso.slice(0, -1).split('T') as [string, string];
  return `${date} ${time.replace(/\.?0+$/, '')} +0000 UTC`;
}

/** The rows of a mail's HTML table, cell texts decoded (html/template escapes `+` as `&#43;`, for one). */
function tableRows(mail: ReceivedMail): string[][] {
  return [...mail.html.matchAll(/<tr><td>(.*?)<\/td><\/tr>/g)].map(([, cells]) =>
    (cells ?? '').split('</td><td>').map(decodeEntities),
  );
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)))
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&');
}

function rowFor(mail: ReceivedMail, exposure: Exposure): string[] | undefined {
  return tableRows(mail).find((row) => row[0] === exposure.ip && row[1] === `${exposure.port}/tcp`);
}

/** The same row in the plain-text part: the cells in order, separated by the padding. */
function textRowPattern(cells: readonly string[]): RegExp {
  return new RegExp(`^${cells.map(escapeRegExp).join(' +')}$`, 'm');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^$()|[\]{}\\/]/g, '\\$&');
}

describe('alerting end to end: exporter with the OpenStack lab, Prometheus with the shipped rules, Alertmanager with the shipped config', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let planned: ReturnType<typeof plannedExposures>;
  let exporter: ExporterProcess;
  let smtp: SmtpReceiver;
  let webhook: WebhookReceiver;

  before(async () => {
    const seed = await readSeed();
    planned = plannedExposures(seed);
    const dir = await mkdtemp(join(tmpdir(), 'ee-alerting-e2e-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'clouds.yaml'), renderCloudsYaml(seed));
    // request_timeout long enough that the first cycle waits for the inventory and names its VMs.
    const config = {
      dir,
      ports: PORTS,
      interval: '30s',
      timeout: '25s',
      refreshInterval: '10m',
      requestTimeout: '20s',
    };
    await writeFile(join(dir, 'config.yml'), renderLabExporterConfig(config));
    for (const exposure of [planned.high, planned.critical]) {
      const listener = await openTcpListener(exposure.ip, exposure.port);
      cleanups.push(() => listener.close());
    }

    smtp = await startSmtpReceiver();
    cleanups.push(() => smtp.stop());
    webhook = await startWebhookReceiver();
    cleanups.push(() => webhook.stop());
    const alertmanager = await startAlertmanager({
      config: await renderAlertmanagerConfigForTest({
        smtpAddress: smtp.address,
        webhookUrl: webhook.url,
        groupWait: '1s',
        groupInterval: '1s',
      }),
    });
    cleanups.push(() => alertmanager.stop());

    exporter = await startExporter([`--config.file=${join(dir, 'config.yml')}`]);
    cleanups.push(async () => {
      const code = await exporter.stop('SIGTERM', 10_000);
      if (code !== 0) throw new Error(`the exporter exited with ${code} on SIGTERM`);
    });

    const rules = join(dir, 'exposure-rules.yml');
    await writeFile(rules, await renderRulesForTest({ forDuration: '2s' }));
    const prometheus = await startPrometheus({
      targets: { 'exposure-exporter': new URL(exporter.baseUrl).host },
      ruleFiles: [rules],
      alertmanagerUrl: alertmanager.url,
      scrapeInterval: '1s',
      evaluationInterval: '1s',
    });
    cleanups.push(() => prometheus.stop());
  });

  after(async () => {
    // Newest first (Prometheus before the Alertmanager it sends to), and every one even if another fails.
    const failures: unknown[] = [];
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw new AggregateError(failures, 'cleanup failed');
  });

  it("mails the security team a digest for tenant alpha naming the high exposure's VM, user, IP and port, its first-seen time and the report link", async () => {
    const { high } = planned;
    const digest = await smtp.waitForMail(
      (mail) =>
        /^\[exposure\] tenant alpha: \d+ nonstandard open ports?/.test(mail.subject) &&
        rowFor(mail, high)?.[4] === high.vm,
      `a digest for tenant alpha with ${high.ip}:${high.port} on ${high.vm}`,
      DEADLINE_MS,
    );
    assert.deepEqual(digest.recipients, ['security-team@example.org']);
    const rows = tableRows(digest);
    assert.equal(digest.subject.match(/: (\d+) nonstandard/)?.[1], String(rows.length), 'the subject counts the rows');

    const samples = await exporter.scrape();
    const open = samplesNamed(samples, 'exposure_port_open').find(
      (s) => s.labels['ip'] === high.ip && s.labels['port'] === String(high.port),
    );
    const firstSeen = samplesNamed(samples, 'exposure_port_first_seen_timestamp_seconds').find(
      (s) => s.labels['ip'] === high.ip && s.labels['port'] === String(high.port),
    );
    assert.ok(open && firstSeen, 'the exporter exports the exposure');
    const service = open.labels['service'] ?? '';
    const expectedRow = [
      high.ip,
      `${high.port}/tcp`,
      service,
      high.severity,
      high.vm,
      high.user,
      high.tenant,
      formatLikeHumanizeTimestamp(firstSeen.value),
    ];
    assert.deepEqual(rowFor(digest, high), expectedRow);
    assert.match(digest.text, textRowPattern(expectedRow));

    const reportUrl = `${exporter.baseUrl}/report?tenant=alpha`;
    assert.match(digest.text, new RegExp(`^Full report: ${escapeRegExp(reportUrl)}$`, 'm'));
    const report = (await (await fetch(reportUrl, { signal: AbortSignal.timeout(10_000) })).json()) as {
      hosts: { ip: string; vm: { tenant: string } | null; ports: { port: number }[] }[];
    };
    assert.ok(
      report.hosts.some((h) => h.ip === high.ip && h.ports.some((p) => p.port === high.port)),
      'the linked report lists the exposure',
    );
    assert.deepEqual(
      [...new Set(report.hosts.map((h) => h.vm?.tenant))],
      ['alpha'],
      'the linked report is filtered to the tenant',
    );
  });

  it('mails tenant alpha about the port as new, in a mail of its own', async () => {
    const { high } = planned;
    const mail = await smtp.waitForMail(
      (m) => /^\[exposure\] tenant alpha: \d+ new open ports?/.test(m.subject) && rowFor(m, high)?.[4] === high.vm,
      `a new-port mail for tenant alpha with ${high.ip}:${high.port}`,
      DEADLINE_MS,
    );
    assert.deepEqual(mail.recipients, ['security-team@example.org']);
    assert.deepEqual(rowFor(mail, high)?.slice(3, 7), [high.severity, high.vm, high.user, high.tenant]);
    assert.match(mail.text, /first time in the last 24 hours/);
  });

  it('pages the critical exposure through the webhook with its VM, user and tenant, and pages nothing else', async () => {
    const { critical, high } = planned;
    const page = await webhook.waitForAlert(
      (alert) =>
        alert.labels['alertname'] === 'ExposureCriticalPortOpen' &&
        alert.labels['ip'] === critical.ip &&
        alert.labels['vm_name'] === critical.vm,
      `a page for ${critical.ip}:${critical.port}`,
      DEADLINE_MS,
    );
    assert.deepEqual(
      [
        page.status,
        page.labels['port'],
        page.labels['severity'],
        page.labels['port_severity'],
        page.labels['user'],
        page.labels['tenant'],
      ],
      ['firing', String(critical.port), 'critical', 'critical', critical.user, critical.tenant],
    );
    assert.match(
      page.annotations['summary'] ?? '',
      new RegExp(
        `^Critical port ${critical.port}/tcp \\(.+\\) open on ${escapeRegExp(critical.ip)} \\(${critical.vm}\\)$`,
      ),
    );
    assert.equal(page.annotations['report_url'], `${exporter.baseUrl}/report?tenant=${critical.tenant}`);
    const paged = webhook.messages();
    assert.ok(paged.every((message) => message.receiver === 'exposure-pager'));
    assert.ok(
      paged.every((message) => message.alerts.every((alert) => alert.labels['severity'] === 'critical')),
      'only critical alerts page',
    );
    assert.ok(
      !paged.some((message) => message.alerts.some((alert) => alert.labels['ip'] === high.ip)),
      'the high exposure does not page',
    );
  });

  it("mails alice, from her Keystone email, her own VM's exposure and nobody else's; carol, without one, gets none", async () => {
    const { high, critical } = planned;
    const mail = await smtp.waitForMail(
      (m) => m.recipients.includes(ALICE_EMAIL) && m.subject.includes(`${high.port}/tcp on ${high.vm} (${high.ip})`),
      `the owner's mail to ${ALICE_EMAIL} with ${high.ip}:${high.port}`,
      DEADLINE_MS,
    );
    assert.deepEqual(mail.recipients, [ALICE_EMAIL]);
    // The owner's table: VM, address, port, service, severity, first seen.
    assert.deepEqual(
      tableRows(mail).map((row) => row.slice(0, 3)),
      [[high.vm, high.ip, `${high.port}/tcp`]],
    );
    const toAlice = smtp.mails().filter((m) => m.recipients.includes(ALICE_EMAIL));
    assert.ok(
      toAlice.every((m) => !m.text.includes(critical.ip) && !m.text.includes(critical.vm)),
      "carol's critical exposure never reaches alice",
    );
    // carol has no email: mails about her exposure go to the team only, never to an owner's address.
    const aboutCarol = smtp.mails().filter((m) => m.text.includes(critical.ip));
    assert.ok(aboutCarol.length > 0, "carol's exposure was mailed");
    assert.deepEqual([...new Set(aboutCarol.flatMap((m) => m.recipients))], ['security-team@example.org']);
  });

  it("lists the critical exposure in tenant gamma's digest as well", async () => {
    const { critical } = planned;
    const digest = await smtp.waitForMail(
      (mail) =>
        /^\[exposure\] tenant gamma: \d+ nonstandard open ports?/.test(mail.subject) &&
        rowFor(mail, critical)?.[4] === critical.vm,
      `a digest for tenant gamma with ${critical.ip}:${critical.port}`,
      DEADLINE_MS,
    );
    assert.match(digest.subject, /, critical among them$/);
    assert.deepEqual(rowFor(digest, critical)?.slice(3, 7), [
      critical.severity,
      critical.vm,
      critical.user,
      critical.tenant,
    ]);
  });
});
