/** Reads a config file named by the user: YAML syntax errors and schema problems become one ConfigError. */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError, describeError } from '../errors.ts';
import { defaultConfig, parseConfig } from './schema.ts';
import type { Config } from './schema.ts';

/** No path means the built-in defaults (scan 127.0.0.1 only), so the exporter runs with no file at all. */
export async function loadConfig(path: string | undefined): Promise<Config> {
  if (path === undefined) return defaultConfig();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the config file: ${describeReadError(err)}`]);
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, source: string): Config {
  // uniqueKeys: a key written twice is a mistake YAML would otherwise resolve silently (last one wins).
  const document = parseDocument(text, { uniqueKeys: true, merge: false, prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(source, document.errors.map((err) => {
      const position = err.linePos?.[0];
      const where = position ? `line ${position.line}, column ${position.col}` : 'YAML';
      return `${where}: ${firstLine(err.message)}`;
    }));
  }
  const result = parseConfig(document.toJS({ maxAliasCount: 100 }));
  if (!result.ok) throw new ConfigError(source, result.problems);
  return result.config;
}

/** prettyErrors adds " at line L, column C:" and a code excerpt; the position is already in front. */
function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).replace(/ at line \d+, column \d+:?$/, '');
}

function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return describeError(err);
}
