/**
 * A real SMTP server on a loopback port the OS picks, for tests that check what Alertmanager mails. No TLS
 * and no AUTH are offered, so Alertmanager (with smtp_require_tls: false and no smtp_auth_*) delivers in
 * plain SMTP. Each message is decoded (MIME, quoted-printable, HTML part) so tests assert on what a reader sees.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO). */
  readonly recipients: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface SmtpReceiver {
  /** `127.0.0.1:port`, as Alertmanager's smtp_smarthost takes it. */
  readonly address: string;
  mails(): readonly ReceivedMail[];
  /** Polls the received mails until one satisfies the predicate or the deadline passes. */
  waitForMail(predicate: (mail: ReceivedMail) => boolean, what: string, timeoutMs?: number): Promise<ReceivedMail>;
  stop(): Promise<void>;
}

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    // Alertmanager quits after each message; a connection still open at stop is not worth 30 s (the default).
    closeTimeout: 1000,
    // A parse failure is answered with an SMTP error, so a broken message shows up in Alertmanager's log.
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          received.push({
            recipients: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    mails: () => received,
    async waitForMail(predicate, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mail = received.find(predicate);
        if (mail) return mail;
        if (Date.now() > deadline) {
          const subjects = received.map((m) => m.subject);
          throw new Error(`timed out waiting for ${what}; mails received: ${JSON.stringify(subjects)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
