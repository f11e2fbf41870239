// Loads a web config file and the PEM files it names, each tried with OpenSSL so a bad PEM or a mismatched key is
// refused at start (or reload) naming its key, never at the first handshake.
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { MAX_WEB_CONFIG_FILE_BYTES, readYamlFile } from '../config/load.ts';
import { ConfigError, describeError, describeReadError } from '../errors.ts';
import { buildSecureContextOptions } from './tls-options.ts';
import type { TlsMaterial } from './tls-options.ts';
import { parseWebConfig } from './web-config.ts';
import type { PemSource, TlsServerConfig, WebConfig } from './web-config.ts';

export interface LoadedWebConfig {
  readonly path: string;
  readonly config: WebConfig;
  readonly material: TlsMaterial | undefined;
  /** Every file this config was built from: the web config first, then the files it names. */
  readonly files: readonly string[];
  readonly fingerprint: string;
}

/** Throws a ConfigError naming the file and every problem found. */
export async function loadWebConfig(path: string): Promise<LoadedWebConfig> {
  const absolute = resolve(path);
  const { text, value } = await readYamlFile(path, MAX_WEB_CONFIG_FILE_BYTES);
  const parsed = parseWebConfig(value, { baseDir: dirname(absolute) });
  if (!parsed.ok) throw new ConfigError(path, parsed.problems);
  const { config } = parsed;
  const contents = new Map<string, string>([[absolute, text]]);
  const material = config.tls && (await readTlsMaterial(path, config.tls, contents));
  const files = [...contents.keys()];
  return { path, config, material, files, fingerprint: fingerprintTexts([...contents.values()]) };
}

/** The fingerprint the files have now; a file that cannot be read counts as a change. */
export async function fingerprintFiles(files: readonly string[]): Promise<string> {
  const texts = await Promise.all(
    files.map((file) => readFile(file, 'utf8').catch((err: unknown) => `unreadable: ${describeError(err)}`)),
  );
  return fingerprintTexts(texts);
}

function fingerprintTexts(texts: readonly string[]): string {
  const digest = createHash('sha256');
  for (const text of texts) digest.update(`${Buffer.byteLength(text)}:`).update(text);
  return digest.digest('hex');
}

async function readTlsMaterial(
  source: string,
  tls: TlsServerConfig,
  contents: Map<string, string>,
): Promise<TlsMaterial> {
  const problems: string[] = [];
  const read = async (pem: PemSource, key: string): Promise<string | undefined> => {
    if (pem.kind === 'inline') return pem.text;
    try {
      const text = await readFile(pem.path, 'utf8');
      contents.set(pem.path, text);
      if (text.trim() === '') problems.push(`tls_server_config.${key}: ${pem.path} is empty`);
      return text;
    } catch (err) {
      problems.push(`tls_server_config.${key}: cannot read ${pem.path}: ${describeReadError(err)}`);
      return undefined;
    }
  };
  const certKey = tls.cert.kind === 'file' ? 'cert_file' : 'cert';
  const keyKey = tls.key.kind === 'file' ? 'key_file' : 'key';
  const cert = await read(tls.cert, certKey);
  const key = await read(tls.key, keyKey);
  const caKey = tls.clientCa?.kind === 'inline' ? 'client_ca' : 'client_ca_file';
  const clientCa = tls.clientCa === undefined ? undefined : await read(tls.clientCa, caKey);
  if (problems.length > 0 || cert === undefined || key === undefined) throw new ConfigError(source, problems);

  const pairProblem = checkKeyPair(cert, key, certKey, keyKey);
  if (pairProblem !== undefined) problems.push(pairProblem);
  if (clientCa !== undefined && !hasCertificate(clientCa)) {
    problems.push(
      `tls_server_config.${caKey}: ${tls.clientCa?.kind === 'file' ? `${tls.clientCa.path} ` : ''}holds no PEM certificate`,
    );
  }
  const material = { cert, key, clientCa };
  if (problems.length === 0) {
    try {
      createSecureContext(buildSecureContextOptions(tls, material));
    } catch (err) {
      problems.push(`tls_server_config: OpenSSL refuses these settings: ${describeError(err)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return material;
}

/** OpenSSL, given a certificate that does not match the key, silently drops the key and fails every handshake later. */
function checkKeyPair(cert: string, key: string, certKey: string, keyKey: string): string | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    return `tls_server_config.${certKey}: holds no PEM certificate`;
  }
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(key)))
      return `tls_server_config.${keyKey}: is not the key of the certificate in ${certKey}`;
  } catch {
    // The reason could quote part of the key; the key's name is enough.
    return `tls_server_config.${keyKey}: holds no PEM private key`;
  }
  return undefined;
}

function hasCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}
