// The inventory_file: owners of addresses outside OpenStack, a YAML or JSON list in the spirit of file_sd.
import type { AddressOwner, Inventory, InventorySnapshot } from './inventory.ts';
import { InventoryFileError } from '../errors.ts';
import { formatAddress, parseAddress } from '../net/addresses.ts';
import { Validator } from '../validation/validator.ts';
import { parseYamlList, refuseInvalidUtf8 } from '../config/load.ts';
import type { FileText } from '../config/load.ts';

/** In the order the owner labels are written. */
export const ENTRY_KEYS = [
  'ip',
  'vm_id',
  'vm_name',
  'vm_status',
  'owner_kind',
  'user',
  'user_id',
  'tenant',
  'tenant_id',
  'user_email',
] as const;

export const DEFAULT_OWNER_KIND = 'file';

export type InventoryFileParse =
  | { ok: true; owners: ReadonlyMap<string, AddressOwner> }
  | { ok: false; problems: string[] };

export function parseInventoryFile(raw: unknown): InventoryFileParse {
  const validator = new Validator();
  const list = validator.list(raw, '(root)', ' of entries');
  if (!list) return { ok: false, problems: validator.problems };
  const owners = new Map<string, AddressOwner>();
  const firstIndex = new Map<string, number>();
  list.forEach((item, index) => {
    const path = `[${index}]`;
    const entry = parseEntry(validator, item, path);
    if (!entry) return;
    const earlier = firstIndex.get(entry.ip);
    if (earlier !== undefined) {
      validator.report(`${path}.ip`, `${JSON.stringify(entry.ip)} is already listed at [${earlier}]`);
      return;
    }
    firstIndex.set(entry.ip, index);
    owners.set(entry.ip, entry.owner);
  });
  return validator.problems.length === 0 ? { ok: true, owners } : { ok: false, problems: validator.problems };
}

function parseEntry(validator: Validator, raw: unknown, path: string): { ip: string; owner: AddressOwner } | undefined {
  const entry = validator.mapping(raw, path, ENTRY_KEYS);
  if (!entry) return undefined;
  if (entry['ip'] === undefined) return validator.report(`${path}.ip`, 'is required');
  const ipText = validator.string(entry['ip'], `${path}.ip`);
  const address = ipText === undefined ? undefined : parseAddress(ipText);
  if (ipText !== undefined && !address)
    validator.report(`${path}.ip`, `${JSON.stringify(ipText)} is not a valid IP address`);
  const text = (key: (typeof ENTRY_KEYS)[number], fallback = ''): string | undefined =>
    entry[key] === undefined ? fallback : validator.string(entry[key], `${path}.${key}`);
  const fields = {
    vmId: text('vm_id'),
    vmName: text('vm_name'),
    vmStatus: text('vm_status'),
    ownerKind: text('owner_kind', DEFAULT_OWNER_KIND),
    user: text('user'),
    userId: text('user_id'),
    tenant: text('tenant'),
    tenantId: text('tenant_id'),
    userEmail: text('user_email'),
  };
  if (fields.ownerKind === '') validator.report(`${path}.owner_kind`, 'must not be empty (leave it out for "file")');
  if (!address || fields.ownerKind === '' || Object.values(fields).some((value) => value === undefined))
    return undefined;
  const owner = fields as Record<keyof typeof fields, string>;
  // As OpenStack's inventory does: a name not given falls back to its id, so labels never lose the owner.
  return {
    ip: formatAddress(address.family, address.value),
    owner: { ...owner, user: owner.user || owner.userId, tenant: owner.tenant || owner.tenantId },
  };
}

export interface FileInventoryOptions {
  readonly source: string;
  /** Bounded in size; throws when the file cannot be read or is too large. */
  readonly read: () => Promise<FileText>;
  readonly onParse?: (parse: { readonly bytes: number; readonly durationMs: number }) => void;
  readonly now?: () => Date;
}

// JSON.parse when the text is a JSON list (a script's output, 40 times quicker to read), else YAML item by item.
export async function parseInventoryText(file: FileText, source: string): Promise<unknown> {
  if (/^\s*\[/.test(file.text.slice(0, 64))) {
    try {
      return refuseInvalidUtf8(file, JSON.parse(file.text) as unknown, source);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      // A YAML flow list is not always JSON; YAML reads it, or says where it is wrong.
    }
  }
  return parseYamlList(file, source);
}

export class FileInventory implements Inventory {
  readonly #options: FileInventoryOptions;
  #last: { text: string; snapshot: InventorySnapshot } | undefined;

  constructor(options: FileInventoryOptions) {
    this.#options = options;
  }

  async load(): Promise<InventorySnapshot> {
    const { source } = this.#options;
    let file: FileText;
    let value: unknown;
    try {
      file = await this.#options.read();
      // Unchanged bytes are not parsed again, and keep the first read's sync time.
      if (this.#last?.text === file.text) return this.#last.snapshot;
      const started = performance.now();
      value = await parseInventoryText(file, source);
      this.#options.onParse?.({ bytes: Buffer.byteLength(file.text), durationMs: performance.now() - started });
    } catch (err) {
      const problems =
        err instanceof Error && 'problems' in err ? (err.problems as string[]) : [(err as Error).message];
      throw new InventoryFileError(source, problems);
    }
    const parsed = parseInventoryFile(value);
    if (!parsed.ok) throw new InventoryFileError(source, parsed.problems);
    const snapshot: InventorySnapshot = {
      source: 'file',
      up: true,
      syncedAt: (this.#options.now ?? (() => new Date()))(),
      servers: new Set([...parsed.owners.values()].map((owner) => owner.vmId).filter((id) => id !== '')).size,
      owners: parsed.owners,
      publicAddresses: [],
      security: new Map(),
      warnings: [],
    };
    this.#last = { text: file.text, snapshot };
    return snapshot;
  }
}
