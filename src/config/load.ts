/**
 * Reads the YAML files the user names: the config file (YAML syntax errors and schema problems become one
 * ConfigError) and the YAML files it points at (clouds.yaml), handed back parsed to whoever owns their format.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError, describeError, describeReadError } from '../errors.ts';
import { defaultConfig, parseConfig } from './schema.ts';
import type { Config, ConfigOverrides } from './schema.ts';

/** No path means the built-in defaults (scan 127.0.0.1 only), so the exporter runs with no file at all. */
export async function loadConfig(path: string | undefined, overrides: ConfigOverrides = {}): Promise<Config> {
  if (path === undefined) return defaultConfig(overrides);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the config file: ${describeReadError(err)}`]);
  }
  return parseConfigText(text, path, overrides);
}

/**
 * Reads a YAML file whose schema another module owns (the web config): a missing file or a YAML syntax error
 * becomes a ConfigError naming the file. The text comes back too, so the caller can tell when it changes.
 */
export async function readYamlFile(path: string): Promise<{ text: string; value: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${describeReadError(err)}`]);
  }
  return { text, value: parseYaml(text, path) };
}

export function parseConfigText(text: string, source: string, overrides: ConfigOverrides = {}): Config {
  const result = parseConfig(parseYaml(text, source), overrides);
  if (!result.ok) throw new ConfigError(source, result.problems);
  return result.config;
}

/**
 * A YAML file another setting points at (clouds.yaml, secure.yaml), parsed as strictly as the config file;
 * undefined when there is no such file, so a search can go on to the next place. One that exists but cannot be
 * read or parsed is an error naming it.
 */
export async function readOptionalYamlFile(path: string): Promise<{ value: unknown } | undefined> {
  const text = await readOptionalFile(path);
  return text === undefined ? undefined : { value: parseYaml(text, path) };
}

/** The file's text, or undefined when there is no such file. */
async function readOptionalFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ConfigError(path, [`cannot read the file: ${describeReadError(err)}`]);
  }
}

/** Parses YAML strictly; syntax errors name their line and column, never quote the text (it may hold secrets). */
function parseYaml(text: string, source: string): unknown {
  // uniqueKeys: a key written twice is a mistake YAML would otherwise resolve silently (last one wins).
  const document = parseDocument(text, { uniqueKeys: true, merge: false, prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(source, document.errors.map((err) => {
      const position = err.linePos?.[0];
      const where = position ? `line ${position.line}, column ${position.col}` : 'YAML';
      return `${where}: ${firstLine(err.message)}`;
    }));
  }
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // toJS names an unresolved alias after its colon; that name is the file's text, so only the reason is kept.
    throw new ConfigError(source, [`YAML: ${describeError(err).split(':')[0]}`]);
  }
}

/** prettyErrors adds " at line L, column C:" and a code excerpt; the position is already in front. */
function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).replace(/ at line \d+, column \d+:?$/, '');
}
