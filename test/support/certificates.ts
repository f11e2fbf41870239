/**
 * Throwaway certificates made with the real openssl in a temp dir: a CA, a server certificate for
 * 127.0.0.1, client certificates with chosen SANs, and a second CA the server does not trust.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  readonly server: KeyPair;
  /** SAN DNS:client-a.example, signed by the CA. */
  readonly clientA: KeyPair;
  /** SAN DNS:client-b.example, signed by the CA. */
  readonly clientB: KeyPair;
  /** SAN DNS:client-a.example, signed by a CA the server does not know. */
  readonly stranger: KeyPair;
}

async function openssl(args: readonly string[]): Promise<void> {
  await run('openssl', [...args], { timeout: 30_000 });
}

async function makeCa(dir: string, name: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { certFile, keyFile };
}

async function makeLeaf(
  dir: string,
  name: string,
  ca: { certFile: string; keyFile: string },
  extensions: string,
  keyArgs: readonly string[],
): Promise<KeyPair> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await openssl(['req', '-newkey', ...keyArgs, '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-out',
    certFile,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return { certFile, keyFile, cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'exposure-certs-'));
  const ca = await makeCa(dir, 'ca');
  const otherCa = await makeCa(dir, 'other-ca');
  const ec = ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  const client = (san: string): string => `subjectAltName=${san}\nextendedKeyUsage=clientAuth\n`;
  // RSA, so the TLS_ECDHE_RSA_* suites can be tested.
  const server = await makeLeaf(dir, 'server', ca, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n', [
    'rsa:2048',
  ]);
  const clientA = await makeLeaf(dir, 'client-a', ca, client('DNS:client-a.example'), ec);
  const clientB = await makeLeaf(dir, 'client-b', ca, client('DNS:client-b.example'), ec);
  const stranger = await makeLeaf(dir, 'stranger', otherCa, client('DNS:client-a.example'), ec);
  return { dir, caFile: ca.certFile, ca: await readFile(ca.certFile, 'utf8'), server, clientA, clientB, stranger };
}
