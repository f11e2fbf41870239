/** Reads the YAML files the user names, strictly and within a size limit, for whichever module owns their format. */
import { open, stat } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError, describeError, describeReadError } from '../errors.ts';
import { childPath, isPlainObject } from '../validation/describe.ts';
import { defaultConfig, parseConfig } from './schema.ts';
import type { Config, ConfigOverrides } from './schema.ts';

/** Every named file is read whole, so each has a ceiling (the inventory file's is inventory_file.max_bytes). */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_WEB_CONFIG_FILE_BYTES = 1024 * 1024;

/** `invalidUtf8` when some bytes were not UTF-8 (they read as U+FFFD, which parseYaml refuses). */
export interface FileText {
  readonly text: string;
  readonly invalidUtf8: boolean;
}

/** No path means the built-in defaults (scan 127.0.0.1 only), so the exporter runs without a file. */
export async function loadConfig(path: string | undefined, overrides: ConfigOverrides = {}): Promise<Config> {
  if (path === undefined) return defaultConfig(overrides);
  const file = await readBoundedFile(path, { maxBytes: MAX_CONFIG_FILE_BYTES, what: 'the config file' });
  return parseConfigFile(file, path, overrides);
}

/** For a schema another module owns (the web config); the text comes back so the caller can tell when it changes. */
export async function readYamlFile(path: string, maxBytes: number): Promise<{ text: string; value: unknown }> {
  const file = await readBoundedFile(path, { maxBytes, what: 'the file' });
  return { text: file.text, value: parseYaml(file, path) };
}

export function parseConfigText(text: string, source: string, overrides: ConfigOverrides = {}): Config {
  return parseConfigFile({ text, invalidUtf8: false }, source, overrides);
}

function parseConfigFile(file: FileText, source: string, overrides: ConfigOverrides): Config {
  const result = parseConfig(parseYaml(file, source), overrides);
  if (!result.ok) throw new ConfigError(source, result.problems);
  return result.config;
}

/** `maxBytes` is checked before reading and again on what was read, in case the file grew meanwhile. */
export async function readBoundedFile(path: string, options: { maxBytes: number; what: string }): Promise<FileText> {
  const tooLarge = (size: number): ConfigError =>
    new ConfigError(path, [`${options.what} is ${size} bytes, more than the limit of ${options.maxBytes} bytes`]);
  let bytes: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > options.maxBytes) throw tooLarge(size);
      bytes = Buffer.alloc(options.maxBytes + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(bytes, length, bytes.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > options.maxBytes) throw tooLarge(length);
      }
      bytes = bytes.subarray(0, length);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(path, [`cannot read ${options.what}: ${describeReadError(err)}`]);
  }
  return decodeUtf8(bytes);
}

function decodeUtf8(bytes: Buffer): FileText {
  try {
    return { text: STRICT_UTF8.decode(bytes), invalidUtf8: false };
  } catch {
    return { text: bytes.toString('utf8'), invalidUtf8: true };
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Undefined when there is no such file, so a search (clouds.yaml, secure.yaml) can go on to the next place. */
export async function readOptionalYamlFile(path: string): Promise<{ value: unknown } | undefined> {
  const exists = await stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return false;
      throw new ConfigError(path, [`cannot read the file: ${describeReadError(err)}`]);
    },
  );
  if (!exists) return undefined;
  const file = await readBoundedFile(path, { maxBytes: MAX_CONFIG_FILE_BYTES, what: 'the file' });
  return { value: parseYaml(file, path) };
}

/** Syntax errors name their line and column but never quote the text, which may hold secrets. */
export function parseYaml(file: FileText, source: string): unknown {
  return refuseInvalidUtf8(file, parseYamlText(file.text, source), source);
}

export function refuseInvalidUtf8<T>(file: FileText, value: T, source: string): T {
  if (!file.invalidUtf8) return value;
  const problems = listInvalidUtf8(value, '(root)');
  if (problems.length > 0) throw new ConfigError(source, problems);
  return value;
}

// One top-level item at a time, yielding between batches, so a large inventory neither holds a whole syntax tree
// nor stalls /metrics. Any other layout, or an item that fails alone, is parsed whole for real line numbers.
export async function parseYamlList(file: FileText, source: string): Promise<unknown> {
  const items = splitTopLevelItems(file.text);
  if (items === undefined) return parseYaml(file, source);
  const values: unknown[] = [];
  for (let index = 0; index < items.length; index += 1) {
    if (index % YIELD_EVERY_ITEMS === 0) await new Promise((resolve) => setImmediate(resolve));
    const document = parseDocument(items[index]!, YAML_OPTIONS);
    if (document.errors.length > 0 || document.warnings.length > 0) return parseYaml(file, source);
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch {
      return parseYaml(file, source);
    }
    if (!Array.isArray(value) || value.length !== 1) return parseYaml(file, source);
    values.push(value[0]);
  }
  return refuseInvalidUtf8(file, values, source);
}

const YIELD_EVERY_ITEMS = 500;

function splitTopLevelItems(text: string): string[] | undefined {
  const items: string[] = [];
  let start = -1;
  for (let at = 0; at < text.length; ) {
    const end = text.indexOf('\n', at);
    const next = end < 0 ? text.length : end + 1;
    const first = text[at];
    if (first === '-' && (text[at + 1] === ' ' || text[at + 1] === '\n' || text[at + 1] === '\r')) {
      if (text.startsWith('---', at)) return undefined;
      if (start >= 0) items.push(text.slice(start, at));
      start = at;
    } else if (
      first !== undefined &&
      first !== ' ' &&
      first !== '#' &&
      first !== '\n' &&
      first !== '\r' &&
      first !== '\t'
    ) {
      // Anything else at column 0 (a mapping, a flow list, a directive, `...`) is not an item of a block list.
      return undefined;
    }
    at = next;
  }
  if (start < 0) return undefined;
  items.push(text.slice(start));
  return items;
}

// U+FFFD is what the lenient decoder put where bytes were not UTF-8.
function listInvalidUtf8(value: unknown, path: string): string[] {
  if (typeof value === 'string')
    return value.includes('\uFFFD') ? [`${path}: holds bytes that are not valid UTF-8`] : [];
  if (Array.isArray(value))
    return value.flatMap((item, index) => listInvalidUtf8(item, `${path === '(root)' ? '' : path}[${index}]`));
  if (!isPlainObject(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    if (key.includes('\uFFFD')) return [`${path}: a key holds bytes that are not valid UTF-8`];
    return listInvalidUtf8(child, childPath(path, key));
  });
}

// uniqueKeys: a key written twice is a mistake YAML would otherwise resolve silently (last one wins).
const YAML_OPTIONS = { uniqueKeys: true, merge: false, prettyErrors: true } as const;

function parseYamlText(text: string, source: string): unknown {
  const document = parseDocument(text, YAML_OPTIONS);
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((err) => {
        const position = err.linePos?.[0];
        const where = position ? `line ${position.line}, column ${position.col}` : 'YAML';
        return `${where}: ${firstLine(err.message)}`;
      }),
    );
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
