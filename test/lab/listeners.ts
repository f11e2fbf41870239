/**
 * TCP listeners for the lab's fake VMs. Runs inside the lab namespace (started by netns-lab.ts through
 * `ip netns exec`), so it binds addresses that exist only there.
 *
 *   listeners.ts 198.51.100.10:22 198.51.100.10:80 …
 *
 * Prints `ready` once every listener is bound. Then reads commands on stdin, one per line, and answers each
 * with exactly one line, so the harness can await the change before scanning again:
 *
 *   close 198.51.100.10 6379   →  ok close 198.51.100.10 6379   (or: error close 198.51.100.10 6379 <message>)
 *   open 198.51.100.10 6379    →  ok open 198.51.100.10 6379
 *
 * Exits when stdin ends, so a harness that dies without cleaning up does not leave listeners behind.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

interface Listener {
  readonly server: Server;
  readonly sockets: Set<Socket>;
}

const listeners = new Map<string, Listener>();

function keyOf(endpoint: Endpoint): string {
  return `${endpoint.ip} ${endpoint.port}`;
}

function parseEndpoint(ip: string | undefined, portText: string | undefined): Endpoint {
  const port = Number(portText);
  if (ip === undefined || ip === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid endpoint "${ip ?? ''} ${portText ?? ''}"`);
  }
  return { ip, port };
}

function parseArgument(arg: string): Endpoint {
  const colon = arg.lastIndexOf(':');
  return parseEndpoint(arg.slice(0, colon), arg.slice(colon + 1));
}

async function openListener(endpoint: Endpoint): Promise<void> {
  const key = keyOf(endpoint);
  if (listeners.has(key)) return;
  const sockets = new Set<Socket>();
  // Accept and immediately forget connections; a connect scan (-sT) completes handshakes and must not pile up.
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: endpoint.ip, port: endpoint.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  listeners.set(key, { server, sockets });
}

async function closeListener(endpoint: Endpoint): Promise<void> {
  const key = keyOf(endpoint);
  const listener = listeners.get(key);
  if (listener === undefined) return;
  listeners.delete(key);
  // server.close() only calls back once every accepted socket has ended; destroy them so the ack is prompt.
  const closed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
  for (const socket of listener.sockets) socket.destroy();
  await closed;
}

async function runCommand(line: string): Promise<string> {
  const [verb, ip, port] = line.trim().split(/\s+/);
  const label = `${verb ?? ''} ${ip ?? ''} ${port ?? ''}`;
  try {
    const endpoint = parseEndpoint(ip, port);
    if (verb === 'close') await closeListener(endpoint);
    else if (verb === 'open') await openListener(endpoint);
    else throw new Error(`unknown command "${verb ?? ''}"`);
    return `ok ${label}`;
  } catch (error) {
    return `error ${label} ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function main(): Promise<void> {
  await Promise.all(process.argv.slice(2).map(parseArgument).map(openListener));
  process.stdout.write('ready\n');

  const lines = createInterface({ input: process.stdin });
  // Commands run one at a time so acks come back in the order the harness sent them.
  for await (const line of lines) {
    if (line.trim() === '') continue;
    process.stdout.write(`${await runCommand(line)}\n`);
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`listeners: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
