/**
 * The owner route of alerts/alertmanager.yml through Debian's real Alertmanager and a real SMTP server: each
 * VM owner with an email is mailed their own exposures and nobody else's, and the security team still gets
 * every exposure, owned or not. The config is the shipped one, rendered for the test (loopback smarthost and
 * webhook, 1s group timings); the alerts are posted as the shipped rules produce them (alerts/tests/).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAlertmanager } from '../support/alertmanager.ts';
import type { AlertmanagerServer, PostableAlert } from '../support/alertmanager.ts';
import { renderAlertmanagerConfigForTest } from '../support/alerting-config.ts';
import { startSmtpReceiver } from '../support/smtp-receiver.ts';
import type { ReceivedMail, SmtpReceiver } from '../support/smtp-receiver.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';

const INSTANCE = 'exporter.example.net:9869';
const SECURITY_TEAM = 'security-team@example.org';
const FIRST_SEEN = '2026-11-26 14:00:00 +0000 UTC';

interface Exposure {
  readonly ip: string;
  readonly port: string;
  readonly service: string;
  readonly vm: string;
  readonly user: string;
  readonly email: string;
  readonly tenant: string;
}

/** Alice has two ports on her VM, Bob one in the same tenant, and Carol's user has no email in Keystone. */
const ALICE_REDIS: Exposure = {
  ip: '198.51.100.11',
  port: '6379',
  service: 'redis',
  vm: 'alpha-web-1',
  user: 'alice',
  email: 'alice@example.org',
  tenant: 'alpha',
};
const ALICE_MONGO: Exposure = { ...ALICE_REDIS, port: '27017', service: 'mongod' };
const BOB_POSTGRES: Exposure = {
  ip: '198.51.100.12',
  port: '5432',
  service: 'postgresql',
  vm: 'alpha-db-1',
  user: 'bob',
  email: 'bob@example.org',
  tenant: 'alpha',
};
const CAROL_ELASTIC: Exposure = {
  ip: '198.51.100.13',
  port: '9200',
  service: 'wap-wsp',
  vm: 'gamma-search-1',
  user: 'carol',
  email: '',
  tenant: 'gamma',
};
const ALL = [ALICE_REDIS, ALICE_MONGO, BOB_POSTGRES, CAROL_ELASTIC];

/** ExposureNonstandardPortOpen as the shipped rule makes it: no user_email label when the user has none. */
function standingAlert(exposure: Exposure): PostableAlert {
  const query = `tenant=${exposure.tenant}`;
  return {
    labels: {
      alertname: 'ExposureNonstandardPortOpen',
      severity: 'warning',
      job: 'exposure-exporter',
      instance: INSTANCE,
      ip: exposure.ip,
      port: exposure.port,
      protocol: 'tcp',
      service: exposure.service,
      port_severity: 'high',
      vm_id: `id-${exposure.vm}`,
      vm_name: exposure.vm,
      user: exposure.user,
      tenant: exposure.tenant,
      ...(exposure.email === '' ? {} : { user_email: exposure.email }),
    },
    annotations: {
      summary: `Nonstandard port ${exposure.port}/tcp (${exposure.service}) open on ${exposure.ip} (${exposure.vm})`,
      description: `${exposure.ip}:${exposure.port}/tcp answers from the internet.`,
      first_seen: FIRST_SEEN,
      report_url: `http://${INSTANCE}/report?${query}`,
      page_url: `http://${INSTANCE}/?${query}`,
      runbook_url: 'https://github.com/OWNER/exposure-exporter/blob/main/README.md#exposurenonstandardportopen',
    },
  };
}

/** The `ip port/tcp` of every exposure a mail lists, from the rows of its plain-text table (owner or digest). */
function exposuresIn(mail: ReceivedMail): string[] {
  return ALL.filter((e) => new RegExp(`(^| )${e.ip.replaceAll('.', '\\.')} +${e.port}/tcp `, 'm').test(mail.text)).map(
    keyOf,
  );
}

function keyOf(exposure: Exposure): string {
  return `${exposure.ip} ${exposure.port}/tcp`;
}

function mailsTo(smtp: SmtpReceiver, recipient: string): ReceivedMail[] {
  return smtp.mails().filter((mail) => mail.recipients.includes(recipient));
}

describe('owner mail through the real Alertmanager with the shipped config', () => {
  let smtp: SmtpReceiver | undefined;
  let webhook: WebhookReceiver | undefined;
  let alertmanager: AlertmanagerServer | undefined;
  let aliceMail: ReceivedMail;
  let bobMail: ReceivedMail;

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
    await alertmanager.postAlerts(ALL.map(standingAlert));
    const received = smtp;
    aliceMail = await received.waitForMail((mail) => mail.recipients.includes(ALICE_REDIS.email), "Alice's mail");
    bobMail = await received.waitForMail((mail) => mail.recipients.includes(BOB_POSTGRES.email), "Bob's mail");
    await received.waitForMail(
      (mail) => mail.subject.startsWith('[exposure] tenant gamma: '),
      "the security team's digest of tenant gamma",
    );
    await received.waitForMail(
      (mail) => mail.subject.startsWith('[exposure] tenant alpha: '),
      "the security team's digest of tenant alpha",
    );
    // Several group intervals more, so a mail that should not exist has had every chance to arrive.
    await new Promise((resolve) => setTimeout(resolve, 4000));
  });

  after(async () => {
    await alertmanager?.stop();
    await webhook?.stop();
    await smtp?.stop();
  });

  it("mails each owner their own VM's exposures, and nobody else's", () => {
    assert.ok(smtp);
    assert.deepEqual(mailsTo(smtp, ALICE_REDIS.email).map(exposuresIn), [[keyOf(ALICE_REDIS), keyOf(ALICE_MONGO)]]);
    assert.deepEqual(mailsTo(smtp, BOB_POSTGRES.email).map(exposuresIn), [[keyOf(BOB_POSTGRES)]]);
    assert.deepEqual(aliceMail.recipients, [ALICE_REDIS.email], 'the owner mail goes to the owner alone');
  });

  it('mails only the owners and the security team: an owner without an email leaves the alert to the team', () => {
    assert.ok(smtp);
    const recipients = new Set(smtp.mails().flatMap((mail) => mail.recipients));
    assert.deepEqual([...recipients].sort(), [ALICE_REDIS.email, BOB_POSTGRES.email, SECURITY_TEAM].sort());
  });

  it('still mails the security team every exposure, the owned ones and the one without an email', () => {
    assert.ok(smtp);
    const listed = mailsTo(smtp, SECURITY_TEAM).flatMap(exposuresIn).sort();
    assert.deepEqual(listed, ALL.map(keyOf).sort());
    assert.deepEqual(
      mailsTo(smtp, SECURITY_TEAM)
        .map((mail) => mail.subject)
        .sort(),
      ['[exposure] tenant alpha: 3 nonstandard open ports', '[exposure] tenant gamma: 1 nonstandard open port'],
    );
  });

  it('names the VM, address and port in the subject', () => {
    assert.equal(bobMail.subject, '[exposure] Port 5432/tcp on alpha-db-1 (198.51.100.12) open to the internet');
    assert.match(
      aliceMail.subject,
      /^\[exposure\] 2 ports of your VMs open to the internet: (6379|27017)\/tcp on alpha-web-1 \(198\.51\.100\.11\) and 1 more$/,
    );
  });

  it('greets the owner, lists each port and says what to change and where the admitting rule is listed', () => {
    assert.match(bobMail.text, /^Hello bob,$/m);
    assert.match(
      bobMail.text,
      /^alpha-db-1 +198\.51\.100\.12 +5432\/tcp +postgresql +high +2026-11-26 14:00:00 \+0000 UTC$/m,
    );
    assert.match(
      bobMail.text,
      /^- 5432\/tcp on alpha-db-1 \(198\.51\.100\.12\): If nobody outside needs postgresql there, remove the security group rule that admits it from anywhere \(0\.0\.0\.0\/0 or ::\/0\), or narrow it/m,
    );
    assert.match(
      bobMail.text,
      /^The security group rule that admits each port: http:\/\/exporter\.example\.net:9869\/\?tenant=alpha$/m,
    );
    assert.match(
      bobMail.text,
      /Keystone names bob@example\.org as the user of these VMs\. The security team gets a copy\.$/,
    );
    assert.ok(bobMail.html.includes('<a href="http://exporter.example.net:9869/?tenant=alpha">'), bobMail.html);
    assert.ok(
      bobMail.html.includes(
        '<tr><td>alpha-db-1</td><td>198.51.100.12</td><td>5432/tcp</td><td>postgresql</td><td>high</td>',
      ),
      bobMail.html,
    );
  });
});
