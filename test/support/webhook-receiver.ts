/**
 * A loopback HTTP server standing in for a paging bridge: it collects the JSON bodies Alertmanager's
 * webhook_configs post (Alertmanager's webhook payload, version 4) and answers 200.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookAlert {
  readonly status: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface WebhookMessage {
  readonly receiver: string;
  readonly status: string;
  readonly alerts: readonly WebhookAlert[];
}

export interface WebhookReceiver {
  readonly url: string;
  messages(): readonly WebhookMessage[];
  /** Polls the received alerts until one satisfies the predicate or the deadline passes. */
  waitForAlert(
    predicate: (alert: WebhookAlert, message: WebhookMessage) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<WebhookAlert>;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookMessage[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      try {
        received.push(JSON.parse(body) as WebhookMessage);
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end('not JSON');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const findAlert = (
    predicate: (alert: WebhookAlert, message: WebhookMessage) => boolean,
  ): WebhookAlert | undefined => {
    for (const message of received) {
      const alert = message.alerts.find((a) => predicate(a, message));
      if (alert) return alert;
    }
    return undefined;
  };
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    messages: () => received,
    async waitForAlert(predicate, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const alert = findAlert(predicate);
        if (alert) return alert;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}; webhook received: ${JSON.stringify(received)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    stop() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
