/**
 * The shipped alerting files (alerts/) checked by the real tools: promtool checks the rules and runs the
 * per-alert unit tests in alerts/tests/, amtool checks the Alertmanager config, its templates and its
 * routing, and a real Alertmanager with the shipped config (endpoints pointed at loopback receivers)
 * shows the inhibition and renders the mails. No OpenStack needed; test/cloud/alerting.test.ts runs the
 * whole chain from a scan.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { startAlertmanager } from '../support/alertmanager.ts';
import type { AlertmanagerAlert, AlertmanagerServer, PostableAlert } from '../support/alertmanager.ts';
import {
  ALERTMANAGER_FILE,
  ALERTS_DIR,
  RULES_FILE,
  readShippedRules,
  renderAlertmanagerConfigForTest,
} from '../support/alerting-config.ts';
import { runTool } from '../support/run-tool.ts';
import { startSmtpReceiver } from '../support/smtp-receiver.ts';
import type { SmtpReceiver } from '../support/smtp-receiver.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';

const TESTS_DIR = join(ALERTS_DIR, 'tests');
const README = new URL('../../README.md', import.meta.url).pathname;
const JOB_SELECTOR = 'job="exposure-exporter"';
const RUNBOOK_BASE = 'https://github.com/OWNER/exposure-exporter/blob/main/README.md#';
const ALERT_NAMES = [
  'ExposureCriticalPortOpen',
  'ExposureUnauthenticatedService',
  'ExposureNonstandardPortOpen',
  'ExposureUdpAmplifier',
  'ExposureNewPortOpened',
  'ExposureLatentPort',
  'ExposureRemediationOverdue',
  'ExposureScanFailing',
  'ExposureScanPassFailing',
  'ExposureScanStale',
  'ExposureExporterDown',
  'ExposureStateNotSaved',
  'ExposureHistoryNotSaved',
  'ExposureOpenStackDown',
  'ExposureExceptionExpiring',
];

async function listTestFiles(): Promise<string[]> {
  return (await readdir(TESTS_DIR)).filter((name) => name.endsWith('.test.yml')).sort();
}

interface PromtoolTestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: unknown[] }[] }[];
}

async function readTestFile(name: string): Promise<PromtoolTestFile> {
  return parse(await readFile(join(TESTS_DIR, name), 'utf8')) as PromtoolTestFile;
}

describe('alert rules, with promtool', () => {
  it('promtool check rules accepts the shipped rules: fifteen alerts', async () => {
    const { code, stdout, stderr } = await runTool('promtool', ['check', 'rules', RULES_FILE]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /SUCCESS: 15 rules found/);
  });

  it('ships exactly the alerts of the issue, each with for:, a severity, summary, description and a runbook in the README', async () => {
    const rules = await readShippedRules();
    assert.deepEqual(
      rules.map((rule) => rule.alert),
      ALERT_NAMES,
    );
    const readme = await readFile(README, 'utf8');
    const alerting = readme.slice(readme.indexOf('\n## Alerting\n'));
    assert.ok(readme.includes('\n## Alerting\n'), 'README has an Alerting section');
    for (const rule of rules) {
      assert.match(rule.for ?? '', /^\d+[smh]$/, `${rule.alert} has a for: duration`);
      assert.match(rule.labels?.['severity'] ?? '', /^(critical|warning|info)$/, `${rule.alert} severity`);
      assert.match(
        rule.annotations?.['summary'] ?? '',
        /\{\{ .*\$(labels|value)/,
        `${rule.alert} summary is built from labels`,
      );
      assert.match(
        rule.annotations?.['description'] ?? '',
        /\{\{ .*\$(labels|value)/,
        `${rule.alert} description is built from labels`,
      );
      assert.equal(rule.annotations?.['runbook_url'], RUNBOOK_BASE + rule.alert.toLowerCase());
      assert.ok(alerting.includes(`\n### ${rule.alert}\n`), `README has a runbook section for ${rule.alert}`);
    }
    assert.deepEqual(
      rules.filter((rule) => rule.labels?.['severity'] === 'critical').map((rule) => rule.alert),
      ['ExposureCriticalPortOpen', 'ExposureUnauthenticatedService'],
      'only critical exposures and data stores readable without credentials page',
    );
  });

  it('selects every series with the one documented job selector', async () => {
    const rules = await readShippedRules();
    const header = (await readFile(RULES_FILE, 'utf8')).split('\ngroups:')[0] ?? '';
    assert.ok(header.includes(`    ${JOB_SELECTOR}\n`), 'the selector is documented at the top');
    for (const rule of rules) {
      const selectors = [...rule.expr.matchAll(/\b(exposure_\w+|up|process_\w+)\b(\{[^}]*\})?/g)];
      assert.ok(selectors.length > 0, `${rule.alert} reads some series`);
      for (const [whole, , matchers] of selectors) {
        assert.ok(matchers?.startsWith(`{${JOB_SELECTOR}`), `${rule.alert}: ${whole} selects ${JOB_SELECTOR}`);
      }
    }
  });

  it('has a test file per alert with a case that fires and a case that must not', async () => {
    const files = await listTestFiles();
    assert.equal(files.length, ALERT_NAMES.length);
    const coverage = new Map<string, { fires: number; silent: number; files: Set<string> }>();
    for (const name of files) {
      const file = await readTestFile(name);
      assert.deepEqual(file.rule_files, ['../exposure-rules.yml'], `${name} tests the shipped rules`);
      for (const test of file.tests) {
        for (const check of test.alert_rule_test ?? []) {
          const entry = coverage.get(check.alertname) ?? { fires: 0, silent: 0, files: new Set<string>() };
          if ((check.exp_alerts ?? []).length > 0) entry.fires += 1;
          else entry.silent += 1;
          entry.files.add(name);
          coverage.set(check.alertname, entry);
        }
      }
    }
    for (const alert of ALERT_NAMES) {
      const entry = coverage.get(alert);
      assert.ok(entry && entry.fires > 0, `${alert} has a case where it fires`);
      assert.ok(entry.silent > 0, `${alert} has a case where it must not fire`);
      assert.equal(entry.files.size, 1, `${alert} is tested in one file of its own`);
    }
  });

  it('promtool test rules passes every test file', async () => {
    const files = await listTestFiles();
    const { code, stdout, stderr } = await runTool('promtool', ['test', 'rules', ...files], { cwd: TESTS_DIR });
    assert.equal(code, 0, stdout + stderr);
    for (const name of files)
      assert.match(stdout, new RegExp(`Unit Testing:  ${name.replace('.', '\\.')}\\n  SUCCESS`));
    assert.doesNotMatch(stdout, /FAILED/);
  });

  it('promtool test rules fails when a rule fires where its companion case says it must not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ee-rules-mutant-'));
    try {
      // The critical rule without its severity filter also fires for the high port in the must-not-fire case.
      const rules = await readFile(RULES_FILE, 'utf8');
      const mutant = rules.replace(
        `exposure_port_open{${JOB_SELECTOR}, severity="critical"}`,
        `exposure_port_open{${JOB_SELECTOR}}`,
      );
      assert.notEqual(mutant, rules);
      await writeFile(join(dir, 'exposure-rules.yml'), mutant);
      await mkdir(join(dir, 'tests'));
      await cp(join(TESTS_DIR, 'critical-port-open.test.yml'), join(dir, 'tests', 'critical-port-open.test.yml'));
      const { code, stdout, stderr } = await runTool('promtool', ['test', 'rules', 'critical-port-open.test.yml'], {
        cwd: join(dir, 'tests'),
      });
      const output = stdout + stderr;
      assert.equal(code, 1);
      assert.match(output, /FAILED:\n\s+name: must not fire for a high port/);
      assert.match(output, /ip="203\.0\.113\.7"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Alertmanager config, with amtool', () => {
  it('amtool check-config accepts it and loads its templates relative to the config file', async () => {
    const { code, stdout, stderr } = await runTool('amtool', ['check-config', ALERTMANAGER_FILE], { cwd: tmpdir() });
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /SUCCESS/);
    for (const found of ['- route', '- 2 inhibit rules', '- 4 receivers', '- 1 templates'])
      assert.ok(stdout.includes(found), found);
  });

  it('amtool check-config fails on a broken template, so the check does read them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ee-am-broken-'));
    try {
      await cp(ALERTS_DIR, dir, { recursive: true });
      const template = join(dir, 'templates', 'exposure.tmpl');
      await writeFile(template, `${await readFile(template, 'utf8')}\n{{ define "broken" }}{{ .Alerts`);
      const { code, stdout, stderr } = await runTool('amtool', ['check-config', join(dir, 'alertmanager.yml')]);
      assert.equal(code, 1, stdout + stderr);
      assert.match(stdout + stderr, /exposure\.tmpl/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const routing: { labels: string[]; receivers: string; why: string }[] = [
    {
      labels: ['alertname=ExposureCriticalPortOpen', 'severity=critical', 'tenant=gamma'],
      receivers: 'exposure-pager,exposure-email',
      why: 'a critical port pages and is in the digest',
    },
    {
      labels: ['alertname=ExposureNonstandardPortOpen', 'severity=warning', 'tenant=alpha'],
      receivers: 'exposure-email',
      why: 'a standing port is mailed',
    },
    {
      labels: ['alertname=ExposureNewPortOpened', 'severity=warning', 'port_severity=critical', 'tenant=gamma'],
      receivers: 'exposure-email',
      why: 'a new port is mailed, not paged, whatever its rating',
    },
    {
      labels: ['alertname=ExposureLatentPort', 'severity=warning', 'port_severity=critical', 'tenant=gamma'],
      receivers: 'exposure-email',
      why: 'a latent port goes into the tenant digest, never to the pager',
    },
    {
      labels: ['alertname=ExposureScanStale', 'severity=warning', 'instance=e:9869'],
      receivers: 'exposure-ops-email',
      why: 'exporter health goes to ops',
    },
    {
      labels: ['alertname=ExposureExceptionExpiring', 'severity=info', 'exception=x'],
      receivers: 'exposure-ops-email',
      why: 'an expiring exception goes to ops',
    },
    {
      labels: [
        'alertname=ExposureNonstandardPortOpen',
        'severity=warning',
        'tenant=alpha',
        'user_email=alice@example.org',
      ],
      receivers: 'exposure-owner-email,exposure-email',
      why: 'a standing port is mailed to its owner too',
    },
    {
      labels: ['alertname=ExposureNewPortOpened', 'severity=warning', 'tenant=alpha', 'user_email=alice@example.org'],
      receivers: 'exposure-owner-email,exposure-email',
      why: 'a new port is mailed to its owner too',
    },
    {
      labels: [
        'alertname=ExposureCriticalPortOpen',
        'severity=critical',
        'tenant=gamma',
        'user_email=carol@example.org',
      ],
      receivers: 'exposure-owner-email,exposure-pager,exposure-email',
      why: 'a critical port reaches its owner and still pages',
    },
    {
      labels: [
        'alertname=ExposureNonstandardPortOpen',
        'severity=warning',
        'tenant=alpha',
        'user_email=a@example.org,b@example.org',
      ],
      receivers: 'exposure-email',
      why: 'an email that is not one plain address is left to the security team',
    },
    {
      labels: ['alertname=ExposureScanStale', 'severity=warning', 'instance=e:9869', 'user_email=alice@example.org'],
      receivers: 'exposure-ops-email',
      why: 'only port alerts go to owners',
    },
    {
      labels: ['alertname=ExposureUnauthenticatedService', 'severity=critical', 'port_severity=high', 'tenant=alpha'],
      receivers: 'exposure-pager,exposure-email',
      why: 'a data store readable without credentials pages, whatever its rating, and is in the digest',
    },
    {
      labels: [
        'alertname=ExposureUnauthenticatedService',
        'severity=critical',
        'tenant=alpha',
        'user_email=alice@example.org',
      ],
      receivers: 'exposure-owner-email,exposure-pager,exposure-email',
      why: 'a data store readable without credentials reaches its owner and still pages',
    },
    {
      labels: ['alertname=ExposureUdpAmplifier', 'severity=warning', 'port_severity=high', 'tenant=delta'],
      receivers: 'exposure-email',
      why: 'a UDP amplifier is mailed in the digest, never paged',
    },
    {
      labels: ['alertname=ExposureUdpAmplifier', 'severity=warning', 'tenant=delta', 'user_email=dave@example.org'],
      receivers: 'exposure-owner-email,exposure-email',
      why: 'a UDP amplifier is mailed to its owner too',
    },
    {
      labels: ['alertname=ExposureScanPassFailing', 'severity=warning', 'instance=e:9869', 'pass=udp'],
      receivers: 'exposure-ops-email',
      why: 'a failing scan pass goes to ops',
    },
    {
      labels: ['alertname=ExposureRemediationOverdue', 'severity=warning', 'port_severity=critical', 'tenant=alpha'],
      receivers: 'exposure-email',
      why: 'critical tickets past their remediation target are mailed to the security team, never paged',
    },
    {
      labels: ['alertname=ExposureHistoryNotSaved', 'severity=warning', 'instance=e:9869'],
      receivers: 'exposure-ops-email',
      why: 'a history database that cannot be written goes to ops',
    },
  ];
  for (const { labels, receivers, why } of routing) {
    it(`routes: ${why} (${receivers})`, async () => {
      const { code, stdout, stderr } = await runTool('amtool', [
        'config',
        'routes',
        'test',
        `--config.file=${ALERTMANAGER_FILE}`,
        `--verify.receivers=${receivers}`,
        ...labels,
      ]);
      assert.equal(stdout.trim(), receivers, stderr);
      assert.equal(code, 0);
    });
  }
});

/** Labels and annotations as the shipped port rules produce them (see alerts/tests/). */
function portAlert(
  alertname: string,
  severity: string,
  port: {
    ip: string;
    port: string;
    protocol?: string;
    service: string;
    portSeverity: string;
    vm: string;
    user: string;
    tenant: string;
    userEmail?: string;
  },
): PostableAlert {
  const protocol = port.protocol ?? 'tcp';
  return {
    labels: {
      alertname,
      severity,
      job: 'exposure-exporter',
      instance: 'exporter.example.net:9869',
      ip: port.ip,
      port: port.port,
      protocol,
      service: port.service,
      port_severity: port.portSeverity,
      vm_id: `id-${port.vm}`,
      vm_name: port.vm,
      user: port.user,
      tenant: port.tenant,
      ...(port.userEmail === undefined ? {} : { user_email: port.userEmail }),
    },
    annotations: {
      summary: `Port ${port.port}/${protocol} open on ${port.ip}`,
      description: `${port.ip}:${port.port}/${protocol} is open.`,
      first_seen: '2026-11-26 14:00:00.5 +0000 UTC',
      report_url: `http://exporter.example.net:9869/report?tenant=${port.tenant}`,
      runbook_url: `${RUNBOOK_BASE}${alertname.toLowerCase()}`,
    },
  };
}

function healthAlert(
  alertname: string,
  instance: string,
  labels: Readonly<Record<string, string>> = {},
): PostableAlert {
  return {
    labels: { alertname, severity: 'warning', job: 'exposure-exporter', instance, ...labels },
    annotations: {
      summary: `${alertname} on ${instance}`,
      description: 'test',
      runbook_url: `${RUNBOOK_BASE}${alertname.toLowerCase()}`,
    },
  };
}

/** Labels and annotations as ExposureRemediationOverdue produces them (see alerts/tests/remediation-overdue.test.yml). */
function overdueAlert(tenant: string, ticketSeverity: string, tickets: number, targetDays: number): PostableAlert {
  const plural = tickets === 1 ? '' : 's';
  return {
    labels: {
      alertname: 'ExposureRemediationOverdue',
      severity: 'warning',
      port_severity: ticketSeverity,
      job: 'exposure-exporter',
      instance: 'exporter.example.net:9869',
      tenant,
    },
    annotations: {
      summary: `Tenant ${tenant}: ${tickets} ${ticketSeverity} ticket${plural} past the remediation target`,
      description: `${tickets} open ticket${plural} of tenant ${tenant}, rated ${ticketSeverity}, past the ${ticketSeverity} remediation target of ${targetDays} days.`,
      overdue_tickets: String(tickets),
      history_url: `http://exporter.example.net:9869/history?state=open&tenant=${tenant}`,
      runbook_url: `${RUNBOOK_BASE}exposureremediationoverdue`,
    },
  };
}

function findAlert(
  alerts: readonly AlertmanagerAlert[],
  labels: Record<string, string>,
): AlertmanagerAlert | undefined {
  return alerts.find((alert) => Object.entries(labels).every(([name, value]) => alert.labels[name] === value));
}

describe('Alertmanager with the shipped config', () => {
  let smtp: SmtpReceiver | undefined;
  let webhook: WebhookReceiver | undefined;
  let alertmanager: AlertmanagerServer | undefined;

  before(async () => {
    smtp = await startSmtpReceiver();
    webhook = await startWebhookReceiver();
    alertmanager = await startAlertmanager({
      config: await renderAlertmanagerConfigForTest({
        smtpAddress: smtp.address,
        webhookUrl: webhook.url,
        groupWait: '1s',
        groupInterval: '1s',
      }),
    });
  });
  after(async () => {
    await alertmanager?.stop();
    await webhook?.stop();
    await smtp?.stop();
  });

  it('a failing scan inhibits the stale alert of the same exporter, not of another', async () => {
    assert.ok(alertmanager);
    await alertmanager.postAlerts([
      healthAlert('ExposureScanFailing', 'a.example.net:9869'),
      healthAlert('ExposureScanStale', 'a.example.net:9869'),
      healthAlert('ExposureScanStale', 'b.example.net:9869'),
    ]);
    const alerts = await alertmanager.waitForAlerts(
      (current) =>
        findAlert(current, { alertname: 'ExposureScanStale', instance: 'a.example.net:9869' })?.status.state ===
        'suppressed',
      'the stale alert of a to be inhibited',
    );
    const failing = findAlert(alerts, { alertname: 'ExposureScanFailing', instance: 'a.example.net:9869' });
    const staleA = findAlert(alerts, { alertname: 'ExposureScanStale', instance: 'a.example.net:9869' });
    const staleB = findAlert(alerts, { alertname: 'ExposureScanStale', instance: 'b.example.net:9869' });
    assert.equal(failing?.status.state, 'active');
    assert.equal(staleA?.status.inhibitedBy.length, 1);
    assert.deepEqual([staleB?.status.state, staleB?.status.inhibitedBy], ['active', []]);
    assert.deepEqual(
      staleB?.receivers.map((r) => r.name),
      ['exposure-ops-email'],
    );
  });

  it('a failing scan inhibits the failing-pass alert of the same exporter, not of another', async () => {
    assert.ok(alertmanager);
    await alertmanager.postAlerts([
      healthAlert('ExposureScanFailing', 'd.example.net:9869'),
      healthAlert('ExposureScanPassFailing', 'd.example.net:9869', { pass: 'udp' }),
      healthAlert('ExposureScanPassFailing', 'e.example.net:9869', { pass: 'verify' }),
    ]);
    const alerts = await alertmanager.waitForAlerts(
      (current) =>
        findAlert(current, { alertname: 'ExposureScanPassFailing', instance: 'd.example.net:9869' })?.status.state ===
        'suppressed',
      'the failing-pass alert of d to be inhibited',
    );
    const passD = findAlert(alerts, { alertname: 'ExposureScanPassFailing', instance: 'd.example.net:9869' });
    const passE = findAlert(alerts, { alertname: 'ExposureScanPassFailing', instance: 'e.example.net:9869' });
    assert.equal(passD?.status.inhibitedBy.length, 1);
    assert.deepEqual([passE?.status.state, passE?.status.inhibitedBy], ['active', []]);
    assert.deepEqual(
      passE?.receivers.map((r) => r.name),
      ['exposure-ops-email'],
    );
  });

  it('mails health alerts to ops with the alert and exporter in the subject', async () => {
    assert.ok(smtp && alertmanager);
    await alertmanager.postAlerts([healthAlert('ExposureOpenStackDown', 'c.example.net:9869')]);
    const mail = await smtp.waitForMail(
      (m) => m.subject === '[exposure-exporter] ExposureOpenStackDown on c.example.net:9869',
      'the ops mail for c',
    );
    assert.deepEqual(mail.recipients, ['monitoring-team@example.org']);
    assert.match(mail.text, /^FIRING: ExposureOpenStackDown on c\.example\.net:9869$/m);
    assert.match(mail.text, new RegExp(`^Runbook: ${RUNBOOK_BASE}exposureopenstackdown$`, 'm'));
  });

  it("mails a tenant's digest: tenant and count in the subject, a row per port, the report link; the critical one pages too", async () => {
    assert.ok(smtp && webhook && alertmanager);
    const redis = {
      ip: '198.51.100.11',
      port: '6379',
      service: 'redis',
      portSeverity: 'high',
      vm: 'alpha-web-1',
      user: 'alice',
      tenant: 'alpha',
    };
    const docker = {
      ip: '198.51.100.12',
      port: '2375',
      service: 'docker',
      portSeverity: 'critical',
      vm: 'alpha-ci-1',
      user: 'anna',
      tenant: 'alpha',
    };
    await alertmanager.postAlerts([
      portAlert('ExposureNonstandardPortOpen', 'warning', redis),
      portAlert('ExposureCriticalPortOpen', 'critical', docker),
    ]);

    const digest = await smtp.waitForMail(
      (m) => m.subject.startsWith('[exposure] tenant alpha: 2 '),
      'the digest of tenant alpha',
    );
    assert.equal(digest.subject, '[exposure] tenant alpha: 2 nonstandard open ports, critical among them');
    assert.deepEqual(digest.recipients, ['security-team@example.org']);
    for (const p of [redis, docker]) {
      const row = new RegExp(
        `^${p.ip.replaceAll('.', '\\.')} +${p.port}/tcp +${p.service} +${p.portSeverity} +${p.vm} +${p.user} +${p.tenant} +2026-11-26 14:00:00\\.5 \\+0000 UTC$`,
        'm',
      );
      assert.match(digest.text, row);
      assert.ok(
        digest.html.includes(
          `<tr><td>${p.ip}</td><td>${p.port}/tcp</td><td>${p.service}</td><td>${p.portSeverity}</td><td>${p.vm}</td><td>${p.user}</td><td>${p.tenant}</td><td>2026-11-26 14:00:00.5 &#43;0000 UTC</td></tr>`,
        ),
        `HTML row for ${p.ip}: ${digest.html}`,
      );
    }
    assert.match(digest.text, /^Full report: http:\/\/exporter\.example\.net:9869\/report\?tenant=alpha$/m);
    assert.ok(digest.html.includes('<a href="http://exporter.example.net:9869/report?tenant=alpha">'), digest.html);

    const paged = await webhook.waitForAlert(
      (alert) => alert.labels['alertname'] === 'ExposureCriticalPortOpen',
      'the page',
    );
    assert.deepEqual(
      [paged.labels['ip'], paged.labels['port'], paged.labels['vm_name'], paged.labels['tenant']],
      [docker.ip, '2375', 'alpha-ci-1', 'alpha'],
    );
    assert.ok(webhook.messages().every((message) => message.receiver === 'exposure-pager'));
    assert.ok(
      webhook.messages().every((message) => message.alerts.every((alert) => alert.labels['severity'] === 'critical')),
      'only critical alerts page',
    );
  });

  it("mails a tenant's tickets past their remediation target to the security team in a mail of their own, a line per severity, never paging", async () => {
    assert.ok(smtp && webhook && alertmanager);
    await alertmanager.postAlerts([overdueAlert('zeta', 'critical', 2, 15), overdueAlert('zeta', 'high', 1, 30)]);
    const mail = await smtp.waitForMail(
      (m) => m.subject.startsWith('[exposure] tenant zeta:'),
      'the remediation mail of tenant zeta',
    );
    assert.match(
      mail.subject,
      /^\[exposure\] tenant zeta: tickets past their remediation target \((critical, high|high, critical)\)$/,
    );
    assert.deepEqual(mail.recipients, ['security-team@example.org']);
    assert.match(mail.text, /^These tickets of tenant zeta are past their remediation target: /m);
    assert.match(
      mail.text,
      /^- 2 open tickets of tenant zeta, rated critical, past the critical remediation target of 15 days\.$/m,
    );
    assert.match(
      mail.text,
      /^- 1 open ticket of tenant zeta, rated high, past the high remediation target of 30 days\.$/m,
    );
    assert.match(mail.text, /^Open tickets: http:\/\/exporter\.example\.net:9869\/history\?state=open&tenant=zeta$/m);
    assert.match(mail.text, new RegExp(`^Runbook: ${RUNBOOK_BASE}exposureremediationoverdue$`, 'm'));
    assert.ok(
      mail.html.includes(
        '<li>2 open tickets of tenant zeta, rated critical, past the critical remediation target of 15 days.</li>',
      ),
      mail.html,
    );
    assert.ok(
      mail.html.includes('<a href="http://exporter.example.net:9869/history?state=open&amp;tenant=zeta">'),
      mail.html,
    );
    assert.doesNotMatch(mail.text, /^IP +PORT/m, 'not a table of ports');
    assert.ok(
      !webhook
        .messages()
        .some((message) => message.alerts.some((alert) => alert.labels['alertname'] === 'ExposureRemediationOverdue')),
      'overdue tickets never page',
    );
  });

  it('mails new ports on their own, promptly, with "new" in the subject', async () => {
    assert.ok(smtp && alertmanager);
    const port = {
      ip: '198.51.100.21',
      port: '8443',
      service: 'https-alt',
      portSeverity: 'low',
      vm: 'beta-app-1',
      user: 'bob',
      tenant: 'beta',
    };
    await alertmanager.postAlerts([portAlert('ExposureNewPortOpened', 'warning', port)]);
    const mail = await smtp.waitForMail(
      (m) => m.subject.startsWith('[exposure] tenant beta:'),
      'the new-port mail of tenant beta',
    );
    assert.equal(mail.subject, '[exposure] tenant beta: 1 new open port');
    assert.match(mail.text, /^These ports were found open for the first time in the last 24 hours\.$/m);
    assert.match(mail.text, /^198\.51\.100\.21 +8443\/tcp +https-alt +low +beta-app-1 +bob +beta +2026-11-26/m);
  });

  it('marks a data store readable without credentials and a UDP amplifier in the digest, and pages only the first', async () => {
    assert.ok(smtp && webhook && alertmanager);
    const mongodb = {
      ip: '198.51.100.31',
      port: '27017',
      service: 'mongodb',
      portSeverity: 'high',
      vm: 'delta-db-1',
      user: 'dave',
      tenant: 'delta',
    };
    const snmp = {
      ip: '198.51.100.32',
      port: '161',
      protocol: 'udp',
      service: 'snmp',
      portSeverity: 'high',
      vm: 'delta-router-1',
      user: 'dave',
      tenant: 'delta',
    };
    await alertmanager.postAlerts([
      portAlert('ExposureUnauthenticatedService', 'critical', mongodb),
      portAlert('ExposureUdpAmplifier', 'warning', snmp),
    ]);

    const digest = await smtp.waitForMail(
      (m) => m.subject.startsWith('[exposure] tenant delta: 2 '),
      'the digest of tenant delta',
    );
    assert.match(digest.text, /^198\.51\.100\.31 +27017\/tcp +mongodb \(no auth\) +high +delta-db-1 +dave +delta /m);
    assert.match(digest.text, /^198\.51\.100\.32 +161\/udp +snmp \(amplifier\) +high +delta-router-1 +dave +delta /m);
    assert.ok(digest.html.includes('<td>27017/tcp</td><td>mongodb (no auth)</td>'), digest.html);
    assert.ok(digest.html.includes('<td>161/udp</td><td>snmp (amplifier)</td>'), digest.html);

    const paged = await webhook.waitForAlert(
      (alert) => alert.labels['alertname'] === 'ExposureUnauthenticatedService',
      'the page for the readable data store',
    );
    assert.deepEqual(
      [paged.labels['ip'], paged.labels['port'], paged.labels['service']],
      [mongodb.ip, '27017', 'mongodb'],
    );
    assert.ok(
      !webhook
        .messages()
        .some((message) => message.alerts.some((alert) => alert.labels['alertname'] === 'ExposureUdpAmplifier')),
      'an amplifier never pages',
    );
  });

  it('mails the owner of a data store readable without credentials what to turn on, and of an amplifier why it matters', async () => {
    assert.ok(smtp && alertmanager);
    const redis = {
      ip: '198.51.100.41',
      port: '7777',
      service: 'redis',
      portSeverity: 'high',
      vm: 'erin-cache-1',
      user: 'erin',
      tenant: 'epsilon',
      userEmail: 'erin@example.org',
    };
    const ssdp = {
      ip: '198.51.100.42',
      port: '1900',
      protocol: 'udp',
      service: 'upnp',
      portSeverity: 'high',
      vm: 'erin-tv-1',
      user: 'erin',
      tenant: 'epsilon',
      userEmail: 'erin@example.org',
    };
    await alertmanager.postAlerts([
      portAlert('ExposureUnauthenticatedService', 'critical', redis),
      portAlert('ExposureUdpAmplifier', 'warning', ssdp),
    ]);

    const readable = await smtp.waitForMail(
      (m) => m.recipients.includes('erin@example.org') && m.subject.includes('7777/tcp'),
      "erin's mail about the readable redis",
    );
    assert.equal(
      readable.subject,
      '[exposure] Port 7777/tcp on erin-cache-1 (198.51.100.41) open to the internet, readable without credentials',
    );
    assert.match(
      readable.text,
      /^These data stores of your VMs answered a read from the internet without asking for credentials: /m,
    );
    assert.match(readable.text, /^erin-cache-1 +198\.51\.100\.41 +7777\/tcp +redis \(no auth\) +high /m);
    assert.match(
      readable.text,
      /^- 7777\/tcp on erin-cache-1 \(198\.51\.100\.41\): Anyone can read redis there without credentials\. Turn on its authentication now/m,
    );

    const amplifier = await smtp.waitForMail(
      (m) => m.recipients.includes('erin@example.org') && m.subject.includes('1900/udp'),
      "erin's mail about the amplifier",
    );
    assert.equal(amplifier.subject, '[exposure] Port 1900/udp on erin-tv-1 (198.51.100.42) open to the internet');
    assert.match(
      amplifier.text,
      /^- 1900\/udp on erin-tv-1 \(198\.51\.100\.42\): upnp answers UDP queries from anyone, so attackers can use your VM to flood others with its answers\. If nobody outside needs upnp there/m,
    );
  });
});
