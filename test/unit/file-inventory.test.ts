import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readYamlFile } from '../../src/config/load.ts';
import { InventoryFileError } from '../../src/errors.ts';
import { FileInventory, parseInventoryFile } from '../../src/inventory/file-inventory.ts';

/** Each invalid file and its exact problems, as `inventory.yml: …` lines once the source is added. */
const INVALID: readonly { name: string; value: unknown; problems: string[] }[] = [
  { name: 'a mapping instead of a list', value: { ip: '10.0.0.1' }, problems: ['(root): must be a list of entries, got a mapping'] },
  { name: 'an empty file', value: null, problems: ['(root): must be a list of entries, got null'] },
  { name: 'an entry that is a string', value: ['10.0.0.1'], problems: ['[0]: must be a mapping, got a string ("10.0.0.1")'] },
  { name: 'an entry without ip', value: [{ vm_name: 'db-1' }], problems: ['[0].ip: is required'] },
  {
    name: 'an address past 255',
    value: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }, { ip: '10.0.0.300' }],
    problems: ['[3].ip: "10.0.0.300" is not a valid IP address'],
  },
  { name: 'a CIDR instead of an address', value: [{ ip: '10.0.0.0/24' }], problems: ['[0].ip: "10.0.0.0/24" is not a valid IP address'] },
  { name: 'a host name', value: [{ ip: 'db-1.example.com' }], problems: ['[0].ip: "db-1.example.com" is not a valid IP address'] },
  { name: 'an ip as a number', value: [{ ip: 167772161 }], problems: ['[0].ip: must be a string, got a number (167772161)'] },
  {
    name: 'an unknown key',
    value: [{ ip: '10.0.0.1', project: 'shop' }],
    problems: ['[0].project: unknown key (expected one of ip, vm_id, vm_name, vm_status, owner_kind, user, user_id, tenant, tenant_id)'],
  },
  { name: 'a label that is not a string', value: [{ ip: '10.0.0.1', tenant: 7 }], problems: ['[0].tenant: must be a string, got a number (7)'] },
  { name: 'an empty owner_kind', value: [{ ip: '10.0.0.1', owner_kind: '' }], problems: ['[0].owner_kind: must not be empty (leave it out for "file")'] },
  {
    name: 'the same address twice, written differently',
    value: [{ ip: '2001:db8::1' }, { ip: '2001:DB8:0::1' }],
    problems: ['[1].ip: "2001:db8::1" is already listed at [0]'],
  },
  {
    name: 'several problems at once, in file order',
    value: [{ ip: '10.0.0.300' }, { tenant: 'shop' }, { ip: '10.0.0.1', vm_id: false }],
    problems: ['[0].ip: "10.0.0.300" is not a valid IP address', '[1].ip: is required', '[2].vm_id: must be a string, got boolean (false)'],
  },
];

describe('parseInventoryFile', () => {
  for (const { name, value, problems } of INVALID) {
    it(`refuses ${name} with exactly the expected problems`, () => {
      assert.deepEqual(parseInventoryFile(value), { ok: false, problems });
    });
  }

  it('reads each entry as an owner by canonical address, with owner_kind "file" when not given', () => {
    const parsed = parseInventoryFile([
      { ip: '192.0.2.10', vm_id: 'bm-10', vm_name: 'backup-1', vm_status: 'ACTIVE', owner_kind: 'baremetal', user: 'ana', user_id: 'u1', tenant: 'ops', tenant_id: 't1' },
      { ip: '2001:DB8::0:5' },
    ]);
    assert.ok(parsed.ok);
    assert.deepEqual([...parsed.owners], [
      ['192.0.2.10', { vmId: 'bm-10', vmName: 'backup-1', vmStatus: 'ACTIVE', ownerKind: 'baremetal', user: 'ana', userId: 'u1', tenant: 'ops', tenantId: 't1' }],
      ['2001:db8::5', { vmId: '', vmName: '', vmStatus: '', ownerKind: 'file', user: '', userId: '', tenant: '', tenantId: '' }],
    ]);
  });

  it('names the user and tenant by their ids when the file gives only ids, as OpenStack owners are', () => {
    const parsed = parseInventoryFile([{ ip: '192.0.2.10', user_id: 'u1', tenant_id: 't1' }]);
    assert.ok(parsed.ok);
    assert.equal(parsed.owners.get('192.0.2.10')?.user, 'u1');
    assert.equal(parsed.owners.get('192.0.2.10')?.tenant, 't1');
  });

  it('accepts an empty list', () => {
    const parsed = parseInventoryFile([]);
    assert.ok(parsed.ok);
    assert.equal(parsed.owners.size, 0);
  });
});

describe('FileInventory', () => {
  async function fileWith(text: string): Promise<string> {
    const path = join(await mkdtemp(join(tmpdir(), 'ee-inventory-')), 'inventory.yml');
    await writeFile(path, text);
    return path;
  }

  it('loads a YAML file and a JSON file alike', async () => {
    const yamlPath = await fileWith('- {ip: 192.0.2.10, vm_name: backup-1}\n');
    const jsonPath = await fileWith('[{"ip": "192.0.2.10", "vm_name": "backup-1"}]\n');
    for (const path of [yamlPath, jsonPath]) {
      const snapshot = await new FileInventory({ source: path, read: () => readYamlFile(path) }).load();
      assert.equal(snapshot.source, 'file');
      assert.equal(snapshot.owners.get('192.0.2.10')?.vmName, 'backup-1');
    }
  });

  it('throws every problem, each prefixed with the file name', async () => {
    const path = await fileWith('- {ip: 10.0.0.1}\n- {ip: 10.0.0.2}\n- {ip: 10.0.0.3}\n- {ip: 10.0.0.300}\n- {vm_name: x}\n');
    await assert.rejects(new FileInventory({ source: 'inventory.yml', read: () => readYamlFile(path) }).load(), (err: unknown) => {
      assert.ok(err instanceof InventoryFileError);
      assert.equal(err.code, 'INVENTORY_FILE_INVALID');
      assert.equal(err.message, 'inventory.yml: [3].ip: "10.0.0.300" is not a valid IP address\ninventory.yml: [4].ip: is required');
      return true;
    });
  });

  it('names a missing file and a YAML syntax error by the file', async () => {
    const missing = join(await mkdtemp(join(tmpdir(), 'ee-inventory-')), 'gone.yml');
    await assert.rejects(new FileInventory({ source: 'gone.yml', read: () => readYamlFile(missing) }).load(), {
      message: 'gone.yml: cannot read the file: no such file',
    });
    const broken = await fileWith('- {ip: 10.0.0.1\n');
    await assert.rejects(new FileInventory({ source: 'broken.yml', read: () => readYamlFile(broken) }).load(), {
      message: 'broken.yml: line 2, column 1: Flow map in block collection must be sufficiently indented and end with a }',
    });
  });

  it('parses the file again only when its text changed', async () => {
    let text = '- {ip: 192.0.2.10, vm_name: a}\n';
    let reads = 0;
    const times = [new Date('2026-11-26T01:00:00Z'), new Date('2026-11-26T01:01:00Z')];
    const inventory = new FileInventory({
      source: 'inventory.yml',
      read: async () => {
        reads += 1;
        return { text, value: [{ ip: '192.0.2.10', vm_name: text.includes('vm_name: a') ? 'a' : 'b' }] };
      },
      now: () => times.shift()!,
    });
    const first = await inventory.load();
    assert.equal(await inventory.load(), first, 'unchanged text: the same snapshot and sync time');
    text = '- {ip: 192.0.2.10, vm_name: b}\n';
    const second = await inventory.load();
    assert.equal(second.owners.get('192.0.2.10')?.vmName, 'b');
    assert.deepEqual(second.syncedAt, new Date('2026-11-26T01:01:00Z'));
    assert.equal(reads, 3);
  });
});
