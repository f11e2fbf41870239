import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExporterError } from '../../src/errors.ts';
import { parseFlags, parseListenAddress } from '../../src/flags.ts';

/** Asserts that `run` throws FLAGS_INVALID with exactly this message. */
function assertFlagsInvalid(run: () => unknown, message: string): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof ExporterError);
    assert.equal(err.code, 'FLAGS_INVALID');
    assert.equal(err.message, message);
    return true;
  });
}

describe('parseFlags', () => {
  it('uses the defaults with no flags', () => {
    assert.deepEqual(parseFlags([]), {
      configFile: undefined,
      configCheck: false,
      listen: { host: undefined, port: 9869 },
      webConfigFile: undefined,
      once: false,
      failOnFindings: false,
      shard: undefined,
      logLevel: 'info',
      logFormat: 'logfmt',
      version: false,
      help: false,
    });
  });

  it('reads --shard=I/N and names a bad one', () => {
    assert.deepEqual(parseFlags(['--shard=2/3']).shard, { index: 2, count: 3 });
    assert.throws(() => parseFlags(['--shard=3/3']), {
      code: 'FLAGS_INVALID',
      message: '--shard="3/3" has index 3, which must be below the number of replicas (3)',
    });
    assert.throws(() => parseFlags(['--shard=one']), {
      code: 'FLAGS_INVALID',
      message: '--shard="one" is not I/N (this replica\'s index, from 0, and the number of replicas)',
    });
  });

  it('reads --config.file=PATH and --config.file PATH alike', () => {
    assert.equal(
      parseFlags(['--config.file=/etc/exposure-exporter/config.yml']).configFile,
      '/etc/exposure-exporter/config.yml',
    );
    assert.equal(
      parseFlags(['--config.file', '/etc/exposure-exporter/config.yml']).configFile,
      '/etc/exposure-exporter/config.yml',
    );
  });

  it('keeps an = inside the value of --config.file=PATH', () => {
    assert.equal(parseFlags(['--config.file=/srv/a=b.yml']).configFile, '/srv/a=b.yml');
  });

  it('reads every flag of a full command line', () => {
    assert.deepEqual(
      parseFlags([
        '--config.file=config.yml',
        '--config.check',
        '--web.listen-address',
        '127.0.0.1:0',
        '--web.config.file=web.yml',
        '--once',
        '--fail-on-findings',
        '--shard=1/4',
        '--log.level=debug',
        '--log.format',
        'json',
        '--version',
        '-h',
      ]),
      {
        configFile: 'config.yml',
        configCheck: true,
        listen: { host: '127.0.0.1', port: 0 },
        webConfigFile: 'web.yml',
        once: true,
        failOnFindings: true,
        shard: { index: 1, count: 4 },
        logLevel: 'debug',
        logFormat: 'json',
        version: true,
        help: true,
      },
    );
  });

  it('reads --help as help', () => {
    assert.equal(parseFlags(['--help']).help, true);
  });

  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    it(`accepts --log.level=${level}`, () => {
      assert.equal(parseFlags([`--log.level=${level}`]).logLevel, level);
    });
  }

  it('refuses an unknown log level with the levels it accepts', () => {
    assertFlagsInvalid(
      () => parseFlags(['--log.level=trace']),
      '--log.level="trace" must be one of debug, info, warn, error',
    );
    assertFlagsInvalid(
      () => parseFlags(['--log.level=INFO']),
      '--log.level="INFO" must be one of debug, info, warn, error',
    );
  });

  it('refuses an unknown log format', () => {
    assertFlagsInvalid(() => parseFlags(['--log.format=text']), '--log.format="text" must be logfmt or json');
  });

  it('refuses --fail-on-findings without --once', () => {
    assertFlagsInvalid(() => parseFlags(['--fail-on-findings']), '--fail-on-findings only makes sense with --once');
  });

  it('refuses an unknown flag', () => {
    assertFlagsInvalid(() => parseFlags(['--web.telemetry-path=/metrics']), "Unknown option '--web.telemetry-path'");
  });

  it('refuses a positional argument', () => {
    assertFlagsInvalid(
      () => parseFlags(['config.yml']),
      "Unexpected argument 'config.yml'. This command does not take positional arguments",
    );
  });

  it('refuses a value for a boolean flag', () => {
    assertFlagsInvalid(() => parseFlags(['--once=true']), "Option '--once' does not take an argument");
  });

  it('refuses a string flag without its value', () => {
    assertFlagsInvalid(() => parseFlags(['--config.file']), "Option '--config.file <value>' argument missing");
  });

  it('refuses a bad listen address with the same message as parseListenAddress', () => {
    assertFlagsInvalid(
      () => parseFlags(['--web.listen-address=9869']),
      '--web.listen-address="9869" is not HOST:PORT, [IPv6]:PORT or :PORT',
    );
  });
});

describe('parseListenAddress', () => {
  const valid: [text: string, host: string | undefined, port: number][] = [
    [':9869', undefined, 9869],
    ['127.0.0.1:0', '127.0.0.1', 0],
    ['0.0.0.0:9869', '0.0.0.0', 9869],
    ['[::1]:9869', '::1', 9869],
    ['[::]:9869', '::', 9869],
    ['[2001:db8::5]:443', '2001:db8::5', 443],
    ['localhost:9869', 'localhost', 9869],
    ['exporter.example.org:65535', 'exporter.example.org', 65535],
  ];
  for (const [text, host, port] of valid) {
    it(`reads ${JSON.stringify(text)} as host ${host ?? '(every interface)'} port ${port}`, () => {
      assert.deepEqual(parseListenAddress(text), { host, port });
    });
  }

  const invalid = [
    '9869',
    '',
    ':',
    '127.0.0.1',
    '127.0.0.1:',
    '127.0.0.1:65536',
    '127.0.0.1:123456',
    '127.0.0.1:98a',
    '::1:9869',
    '[::1]',
    '[::1]9869',
    '[localhost]:9869',
    ':-1',
  ];
  for (const text of invalid) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assertFlagsInvalid(
        () => parseListenAddress(text),
        `--web.listen-address=${JSON.stringify(text)} is not HOST:PORT, [IPv6]:PORT or :PORT`,
      );
    });
  }
});
