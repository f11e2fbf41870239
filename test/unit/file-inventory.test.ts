import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBoundedFile } from '../../src/config/load.ts';
import { InventoryFileError } from '../../src/errors.ts';
import { FileInventory, parseInventoryText, parseInventoryFile } from '../../src/inventory/file-inventory.ts';

/** Each invalid file and its exact problems, as `inventory.yml: …` lines once the source is added. */
const INVALID: readonly { name: string; value: unknown; problems: string[] }[] = [
  {
    name: 'a mapping instead of a list',
    value: { ip: '10.0.0.1' },
    problems: ['(root): must be a list of entries, got a mapping'],
  },
  { name: 'an empty file', value: null, problems: ['(root): must be a list of entries, got null'] },
  {
    name: 'an entry that is a string',
    value: ['10.0.0.1'],
    problems: ['[0]: must be a mapping, got a string ("10.0.0.1")'],
  },
  { name: 'an entry without ip', value: [{ vm_name: 'db-1' }], problems: ['[0].ip: is required'] },
  {
    name: 'an address past 255',
    value: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }, { ip: '10.0.0.300' }],
    problems: ['[3].ip: "10.0.0.300" is not a valid IP address'],
  },
  {
    name: 'a CIDR instead of an address',
    value: [{ ip: '10.0.0.0/24' }],
    problems: ['[0].ip: "10.0.0.0/24" is not a valid IP address'],
  },
  {
    name: 'a host name',
    value: [{ ip: 'db-1.example.com' }],
    problems: ['[0].ip: "db-1.example.com" is not a valid IP address'],
  },
  {
    name: 'an ip as a number',
    value: [{ ip: 167772161 }],
    problems: ['[0].ip: must be a string, got a number (167772161)'],
  },
  {
    name: 'an unknown key',
    value: [{ ip: '10.0.0.1', project: 'shop' }],
    problems: [
      '[0].project: unknown key (expected one of ip, vm_id, vm_name, vm_status, owner_kind, user, user_id, tenant, tenant_id, user_email)',
    ],
  },
  {
    name: 'a label that is not a string',
    value: [{ ip: '10.0.0.1', tenant: 7 }],
    problems: ['[0].tenant: must be a string, got a number (7)'],
  },
  {
    name: 'an empty owner_kind',
    value: [{ ip: '10.0.0.1', owner_kind: '' }],
    problems: ['[0].owner_kind: must not be empty (leave it out for "file")'],
  },
  {
    name: 'the same address twice, written differently',
    value: [{ ip: '2001:db8::1' }, { ip: '2001:DB8:0::1' }],
    problems: ['[1].ip: "2001:db8::1" is already listed at [0]'],
  },
  {
    name: 'several problems at once, in file order',
    value: [{ ip: '10.0.0.300' }, { tenant: 'shop' }, { ip: '10.0.0.1', vm_id: false }],
    problems: [
      '[0].ip: "10.0.0.300" is not a valid IP address',
      '[1].ip: is required',
      '[2].vm_id: must be a string, got boolean (false)',
    ],
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
      {
        ip: '192.0.2.10',
        vm_id: 'bm-10',
        vm_name: 'backup-1',
        vm_status: 'ACTIVE',
        owner_kind: 'baremetal',
        user: 'ana',
        user_id: 'u1',
        tenant: 'ops',
        tenant_id: 't1',
        user_email: 'ana@example.org',
      },
      { ip: '2001:DB8::0:5' },
    ]);
    assert.ok(parsed.ok);
    assert.deepEqual(
      [...parsed.owners],
      [
        [
          '192.0.2.10',
          {
            vmId: 'bm-10',
            vmName: 'backup-1',
            vmStatus: 'ACTIVE',
            ownerKind: 'baremetal',
            user: 'ana',
            userId: 'u1',
            tenant: 'ops',
            tenantId: 't1',
            userEmail: 'ana@example.org',
          },
        ],
        [
          '2001:db8::5',
          {
            vmId: '',
            vmName: '',
            vmStatus: '',
            ownerKind: 'file',
            user: '',
            userId: '',
            tenant: '',
            tenantId: '',
            userEmail: '',
          },
        ],
      ],
    );
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
      const snapshot = await new FileInventory({ source: path, read: () => readInventory(path) }).load();
      assert.equal(snapshot.source, 'file');
      assert.equal(snapshot.owners.get('192.0.2.10')?.vmName, 'backup-1');
    }
  });

  it('throws every problem, each prefixed with the file name', async () => {
    const path = await fileWith(
      '- {ip: 10.0.0.1}\n- {ip: 10.0.0.2}\n- {ip: 10.0.0.3}\n- {ip: 10.0.0.300}\n- {vm_name: x}\n',
    );
    await assert.rejects(
      new FileInventory({ source: 'inventory.yml', read: () => readInventory(path) }).load(),
      (err: unknown) => {
        assert.ok(err instanceof InventoryFileError);
        assert.equal(err.code, 'INVENTORY_FILE_INVALID');
        assert.equal(
          err.message,
          'inventory.yml: [3].ip: "10.0.0.300" is not a valid IP address\ninventory.yml: [4].ip: is required',
        );
        return true;
      },
    );
  });

  it('names a missing file and a YAML syntax error by the file', async () => {
    const missing = join(await mkdtemp(join(tmpdir(), 'ee-inventory-')), 'gone.yml');
    await assert.rejects(new FileInventory({ source: 'gone.yml', read: () => readInventory(missing) }).load(), {
      message: 'gone.yml: cannot read the inventory file: no such file',
    });
    const broken = await fileWith('- {ip: 10.0.0.1\n');
    await assert.rejects(new FileInventory({ source: 'broken.yml', read: () => readInventory(broken) }).load(), {
      message:
        'broken.yml: line 2, column 1: Flow map in block collection must be sufficiently indented and end with a }',
    });
  });

  it('parses the file again only when its bytes changed', async () => {
    let text = '- {ip: 192.0.2.10, vm_name: a}\n';
    let reads = 0;
    const parses: number[] = [];
    const times = [new Date('2026-11-26T01:00:00Z'), new Date('2026-11-26T01:01:00Z')];
    const inventory = new FileInventory({
      source: 'inventory.yml',
      read: async () => {
        reads += 1;
        return { text, invalidUtf8: false };
      },
      onParse: (parse) => parses.push(parse.bytes),
      now: () => times.shift()!,
    });
    const first = await inventory.load();
    assert.equal(await inventory.load(), first, 'unchanged text: the same snapshot and sync time');
    text = '- {ip: 192.0.2.10, vm_name: bb}\n';
    const second = await inventory.load();
    assert.equal(second.owners.get('192.0.2.10')?.vmName, 'bb');
    assert.deepEqual(second.syncedAt, new Date('2026-11-26T01:01:00Z'));
    assert.deepEqual([reads, parses], [3, [31, 32]]);
  });

  it('reads a YAML list item by item and a JSON list through JSON.parse, with the same problems', async () => {
    const yaml =
      '# owners\n- ip: 192.0.2.10\n  vm_name: a\n# more\n- {ip: 192.0.2.11, vm_name: b}\n- {ip: 192.0.2.300}\n';
    const json = '[{"ip": "192.0.2.10", "vm_name": "a"}, {"ip": "192.0.2.11", "vm_name": "b"}, {"ip": "192.0.2.300"}]';
    for (const text of [yaml, json]) {
      assert.deepEqual(await parseInventoryText({ text, invalidUtf8: false }, 'i.yml'), [
        { ip: '192.0.2.10', vm_name: 'a' },
        { ip: '192.0.2.11', vm_name: 'b' },
        { ip: '192.0.2.300' },
      ]);
    }
  });

  it('names the value that was not UTF-8, in YAML and in JSON', async () => {
    for (const text of ['- {ip: 192.0.2.10, vm_name: "a\uFFFD"}\n', '[{"ip": "192.0.2.10", "vm_name": "a\uFFFD"}]']) {
      await assert.rejects(parseInventoryText({ text, invalidUtf8: true }, 'i.yml'), {
        message: 'i.yml: [0].vm_name: holds bytes that are not valid UTF-8',
      });
    }
  });

  it('refuses a file over its size limit unread, naming the file and the limit', async () => {
    const path = await fileWith(`- {ip: 192.0.2.10, vm_name: ${'x'.repeat(200)}}\n`);
    const inventory = new FileInventory({
      source: path,
      read: () => readBoundedFile(path, { maxBytes: 100, what: 'the inventory file' }),
    });
    await assert.rejects(inventory.load(), {
      message: `${path}: the inventory file is 230 bytes, more than the limit of 100 bytes`,
    });
  });
});

function readInventory(path: string) {
  return readBoundedFile(path, { maxBytes: 1 << 20, what: 'the inventory file' });
}
