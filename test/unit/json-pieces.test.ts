import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringifyInPieces } from '../../src/state/json-pieces.ts';

/** Values with every shape JSON.stringify treats specially: empty containers, skipped members, toJSON, nesting. */
const VALUES: readonly [string, unknown][] = [
  ['a number', 42],
  ['a string with a newline and quotes', 'line one\nline "two"'],
  ['null', null],
  ['an empty object', {}],
  ['an empty array', []],
  ['a Date', new Date('2026-11-26T01:00:41.237Z')],
  ['an object with undefined and function members', { kept: 1, gone: undefined, call: () => 1, last: 'x' }],
  ['an object whose only member is undefined', { gone: undefined }],
  ['an array with undefined and function items', [1, undefined, () => 1, 'x']],
  ['an object with toJSON', { toJSON: () => ({ replaced: true }) }],
  ['an object without a prototype', Object.assign(Object.create(null) as object, { a: 1 })],
  [
    'a report-like document',
    {
      schema_version: 1,
      generated_at: new Date('2026-11-26T02:05:00.000Z'),
      scan: { nmap: { version: '7.93', args: ['-sS', '-n', '--open'] }, error: null },
      hosts: [
        {
          ip: '203.0.113.7',
          vm: null,
          ports: [{ port: 22, first_seen: new Date(0), exception: null }, { port: 6379 }],
        },
        { ip: '203.0.113.12', vm: { id: 'a', name: 'web\n1' }, ports: [] },
      ],
      changes: { opened: [], closed: [{ ip: '203.0.113.40', port: 9200, protocol: 'tcp' }] },
    },
  ],
];

describe('stringifyInPieces', () => {
  for (const [name, value] of VALUES) {
    for (const indent of [0, 2, 4]) {
      it(`joins to JSON.stringify's text for ${name} (indent ${indent})`, () => {
        assert.equal([...stringifyInPieces(value, { indent })].join(''), JSON.stringify(value, null, indent));
      });
    }
  }

  it('splits objects member by member and lists item by item, writing each item whole', () => {
    const pieces = [
      ...stringifyInPieces(
        {
          version: 1,
          snapshot: {
            hosts: [
              { ip: 'a', ports: [1, 2] },
              { ip: 'b', ports: [] },
            ],
            none: [],
          },
        },
        { indent: 0 },
      ),
    ];
    assert.deepEqual(pieces, [
      '{"version":1',
      ',"snapshot":',
      '{"hosts":',
      '[{"ip":"a","ports":[1,2]}',
      ',{"ip":"b","ports":[]}',
      ']',
      ',"none":',
      '[]',
      '}',
      '}',
    ]);
  });

  it('indents a pretty-printed item to the depth of its list', () => {
    const pieces = [...stringifyInPieces({ hosts: [{ ip: 'a', ports: [1] }] }, { indent: 2 })];
    assert.equal(pieces[1], '[\n    {\n      "ip": "a",\n      "ports": [\n        1\n      ]\n    }');
  });

  it('writes a generator as the array of what it yields, rendering each item only when it is reached', () => {
    const rendered: number[] = [];
    function* items(): Generator<{ n: number }> {
      for (const n of [1, 2, 3]) {
        rendered.push(n);
        yield { n };
      }
    }
    const pieces = stringifyInPieces({ items: items(), after: true }, { indent: 2 });
    const seen: string[] = [];
    for (const piece of pieces) {
      seen.push(piece);
      if (piece.includes('"n": 1'))
        assert.deepEqual(rendered, [1], 'the second item is rendered after the first is written');
    }
    assert.equal(seen.join(''), JSON.stringify({ items: [{ n: 1 }, { n: 2 }, { n: 3 }], after: true }, null, 2));
  });

  it('refuses a value JSON.stringify writes nothing for', () => {
    assert.throws(() => [...stringifyInPieces(undefined, { indent: 0 })], {
      name: 'TypeError',
      message: 'JSON.stringify would write nothing for this value',
    });
  });
});
