/** A TCP port that accepts and drops connections, for scans to find. Port 0 picks a free one. */
import { createServer } from 'node:net';

export interface TcpListener {
  readonly port: number;
  close(): Promise<void>;
}

export function openTcpListener(host: string, port = 0): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
