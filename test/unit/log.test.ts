import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExporterError } from '../../src/errors.ts';
import { createLogger, silentLogger } from '../../src/log.ts';
import type { LogFormat, LogLevel, Logger } from '../../src/log.ts';

const NOW = new Date('2026-11-26T02:00:00.000Z');

/** A logger writing into an array, at a fixed time. */
function capture(level: LogLevel = 'debug', format: LogFormat = 'logfmt'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ level, format, write: (line) => lines.push(line), now: () => NOW }), lines };
}

describe('logfmt', () => {
  it('writes time, level and message first, then the fields in order', () => {
    const { log, lines } = capture();
    log.info('scan finished', { hosts_up: 97, targets: '203.0.113.0/24', success: true });
    assert.deepEqual(lines, [
      'ts=2026-11-26T02:00:00.000Z level=info msg="scan finished" hosts_up=97 targets=203.0.113.0/24 success=true',
    ]);
  });

  const quoting: [value: string, rendered: string][] = [
    ['redis', 'redis'],
    ['db-1', 'db-1'],
    ['with space', '"with space"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['a=b', '"a=b"'],
    ['', '""'],
    ['C:\\temp', '"C:\\\\temp"'],
    ['two\nlines', '"two\\nlines"'],
    ['tab\there', '"tab\\there"'],
    ['café', '"café"'],
  ];
  for (const [value, rendered] of quoting) {
    it(`renders ${JSON.stringify(value)} as ${rendered}`, () => {
      const { log, lines } = capture();
      log.info('m', { v: value });
      assert.equal(lines[0], `ts=2026-11-26T02:00:00.000Z level=info msg=m v=${rendered}`);
    });
  }

  it('renders dates as ISO times, objects as quoted JSON, and leaves out undefined fields', () => {
    const { log, lines } = capture();
    log.info('state saved', {
      at: new Date('2026-11-26T02:00:41.237Z'),
      changes: { opened: 1, closed: 0 },
      skipped: undefined,
      path: null,
    });
    assert.deepEqual(lines, [
      'ts=2026-11-26T02:00:00.000Z level=info msg="state saved" at=2026-11-26T02:00:41.237Z changes="{\\"opened\\":1,\\"closed\\":0}" path=null',
    ]);
  });

  it('renders an ExporterError under err as dotted fields, its cause included, without a stack trace', () => {
    const { log, lines } = capture();
    const cause = new Error('spawn nmap ENOENT');
    log.error('scan failed', { err: new ExporterError('NMAP_NOT_FOUND', 'nmap was not found at "nmap"', { cause }) });
    assert.deepEqual(lines, [
      'ts=2026-11-26T02:00:00.000Z level=error msg="scan failed" err.message="nmap was not found at \\"nmap\\"" err.code=NMAP_NOT_FOUND ' +
        'err.name=ExporterError err.cause.message="spawn nmap ENOENT"',
    ]);
  });

  it('renders a plain Error under err as its name and message alone', () => {
    const { log, lines } = capture();
    log.warn('cycle failed', { err: new TypeError('cannot read properties of undefined') });
    assert.equal(
      lines[0],
      'ts=2026-11-26T02:00:00.000Z level=warn msg="cycle failed" err.message="cannot read properties of undefined" err.name=TypeError',
    );
    assert.doesNotMatch(lines[0] ?? '', /\bat /);
  });

  it('renders a thrown string under err as an error whose message is the string', () => {
    const { log, lines } = capture();
    log.error('request failed', { err: 'socket hang up' });
    assert.equal(lines[0], 'ts=2026-11-26T02:00:00.000Z level=error msg="request failed" err.message="socket hang up"');
  });

  it('leaves out an err field that is undefined', () => {
    const { log, lines } = capture();
    log.info('m', { err: undefined });
    assert.equal(lines[0], 'ts=2026-11-26T02:00:00.000Z level=info msg=m');
  });
});

describe('JSON lines', () => {
  it('writes one JSON object per line with the same fields', () => {
    const { log, lines } = capture('info', 'json');
    log.info('scan finished', { hosts_up: 97, targets: '203.0.113.0/24', note: 'a "quoted" = value\n' });
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0] ?? '', /\n/);
    assert.deepEqual(JSON.parse(lines[0] ?? ''), {
      ts: '2026-11-26T02:00:00.000Z',
      level: 'info',
      msg: 'scan finished',
      hosts_up: 97,
      targets: '203.0.113.0/24',
      note: 'a "quoted" = value\n',
    });
  });

  it('renders an error under err as an object with its code and name, without a stack trace', () => {
    const { log, lines } = capture('info', 'json');
    log.error('scan failed', { err: new ExporterError('NMAP_TIMEOUT', 'nmap ran longer than 50m') });
    assert.deepEqual(JSON.parse(lines[0] ?? ''), {
      ts: '2026-11-26T02:00:00.000Z',
      level: 'error',
      msg: 'scan failed',
      err: { message: 'nmap ran longer than 50m', code: 'NMAP_TIMEOUT', name: 'ExporterError' },
    });
    assert.doesNotMatch(lines[0] ?? '', /stack|\bat /);
  });

  it('renders the cause chain under err, each cause with its own code', () => {
    const { log, lines } = capture('info', 'json');
    const system = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), { code: 'ECONNREFUSED' });
    const library = new TypeError('fetch failed', { cause: system });
    const err = new ExporterError('OPENSTACK_HTTP', 'POST identity /v3/auth/tokens: fetch failed', { cause: library });
    log.error('cannot read the inventory', { err });
    assert.deepEqual(JSON.parse(lines[0] ?? '').err, {
      message: 'POST identity /v3/auth/tokens: fetch failed',
      code: 'OPENSTACK_HTTP',
      name: 'ExporterError',
      cause: {
        message: 'fetch failed',
        name: 'TypeError',
        cause: { message: 'connect ECONNREFUSED 127.0.0.1:5000', code: 'ECONNREFUSED' },
      },
    });
  });

  it('stops a cause chain after four causes, even one that loops', () => {
    const { log, lines } = capture('info', 'json');
    const looping = new Error('retry failed');
    looping.cause = looping;
    log.error('m', { err: looping });
    let depth = 0;
    for (let err = JSON.parse(lines[0] ?? '').err; err.cause; err = err.cause) depth += 1;
    assert.equal(depth, 4);
  });

  it('renders a thrown value that is not an Error as an object, never as the bare value', () => {
    const { log, lines } = capture('info', 'json');
    log.error('string', { err: 'boom' });
    log.error('number', { err: 42 });
    log.error('object', { err: { password: 'hunter2' } });
    log.error('cause', { err: new Error('wrapped', { cause: 'plain text cause' }) });
    assert.deepEqual(
      lines.map((line) => JSON.parse(line).err),
      [
        { message: 'boom' },
        { message: '42' },
        { message: 'a thrown object that is not an Error' },
        { message: 'wrapped', cause: { message: 'plain text cause' } },
      ],
    );
    assert.doesNotMatch(lines.join('\n'), /hunter2/);
  });

  it('renders an Error under another key and inside an object the same way as under err', () => {
    const { log, lines } = capture('info', 'json');
    log.warn('m', {
      reason: new RangeError('too big'),
      failures: [new ExporterError('NMAP_FAILED', 'nmap exited with code 1')],
    });
    const record = JSON.parse(lines[0] ?? '');
    assert.deepEqual(record.reason, { message: 'too big', name: 'RangeError' });
    assert.deepEqual(record.failures, [
      { message: 'nmap exited with code 1', code: 'NMAP_FAILED', name: 'ExporterError' },
    ]);
  });

  it('keeps nested objects and renders dates as ISO times', () => {
    const { log, lines } = capture('info', 'json');
    log.info('changes', { at: new Date('2026-11-26T02:00:41.237Z'), changes: { opened: [6379], closed: [] } });
    assert.deepEqual(JSON.parse(lines[0] ?? ''), {
      ts: '2026-11-26T02:00:00.000Z',
      level: 'info',
      msg: 'changes',
      at: '2026-11-26T02:00:41.237Z',
      changes: { opened: [6379], closed: [] },
    });
  });
});

describe('level filtering', () => {
  const expected: [level: LogLevel, written: string[]][] = [
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ];
  for (const [level, written] of expected) {
    it(`at ${level} writes ${written.join(', ')}`, () => {
      const { log, lines } = capture(level, 'json');
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      assert.deepEqual(
        lines.map((line) => JSON.parse(line).level),
        written,
      );
    });
  }

  it('filters a bound logger at the same level', () => {
    const { log, lines } = capture('warn');
    const cycle = log.with({ cycle: 3 });
    cycle.info('cycle started');
    cycle.warn('inventory stale');
    assert.deepEqual(lines, ['ts=2026-11-26T02:00:00.000Z level=warn msg="inventory stale" cycle=3']);
  });
});

describe('with', () => {
  it("adds the bound fields to every line, before the call's own fields", () => {
    const { log, lines } = capture();
    const cycle = log.with({ cycle: 7 });
    cycle.info('cycle started', { targets: 256 });
    cycle.info('cycle finished', { hosts_up: 97 });
    assert.deepEqual(lines, [
      'ts=2026-11-26T02:00:00.000Z level=info msg="cycle started" cycle=7 targets=256',
      'ts=2026-11-26T02:00:00.000Z level=info msg="cycle finished" cycle=7 hosts_up=97',
    ]);
  });

  it('binds fields cumulatively and leaves the parent logger unchanged', () => {
    const { log, lines } = capture();
    log.with({ cycle: 7 }).with({ family: 6 }).info('nmap started');
    log.info('listening');
    assert.deepEqual(lines, [
      'ts=2026-11-26T02:00:00.000Z level=info msg="nmap started" cycle=7 family=6',
      'ts=2026-11-26T02:00:00.000Z level=info msg=listening',
    ]);
  });

  it("lets a call's field replace a bound one of the same name", () => {
    const { log, lines } = capture();
    log.with({ component: 'scheduler' }).info('m', { component: 'nmap' });
    assert.deepEqual(lines, ['ts=2026-11-26T02:00:00.000Z level=info msg=m component=nmap']);
  });
});

describe('silentLogger', () => {
  it('stays silent when bound', () => {
    assert.equal(silentLogger.with({ cycle: 1 }), silentLogger);
  });
});
