import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { parseNmapXml } from '../../src/scan/nmap-xml.ts';
import { answeredWithoutCredentials } from '../../src/scan/script-verdicts.ts';

/** The scripts nmap ran on each port of a recorded -sV run (test/fixtures/nmap/README.md has the commands). */
async function recordedScripts(file: string): Promise<Map<string, { id: string; output: string }[]>> {
  const text = await readFile(new URL(`../fixtures/nmap/${file}`, import.meta.url), 'utf8');
  const ports = new Map<string, { id: string; output: string }[]>();
  for (const event of parseNmapXml(text)) {
    if (event.kind !== 'host') continue;
    for (const port of event.host.ports) ports.set(`${port.port}/${port.protocol}`, [...port.scripts]);
  }
  return ports;
}

describe('answeredWithoutCredentials', () => {
  it('is true for the recorded redis-info and memcached-info runs against real daemons without authentication', async () => {
    const redis = await recordedScripts('verify-redis.xml');
    assert.deepEqual(
      redis.get('7777/tcp')?.map((script) => script.id),
      ['redis-info'],
    );
    assert.equal(answeredWithoutCredentials(redis.get('7777/tcp')!), true);
    const memcached = await recordedScripts('verify-memcached.xml');
    assert.equal(answeredWithoutCredentials(memcached.get('11211/tcp')!), true);
  });

  it('is false for the recorded snmp-info output, which is not a status script', async () => {
    const snmp = await recordedScripts('verify-snmp.xml');
    assert.equal(answeredWithoutCredentials(snmp.get('161/udp') ?? []), false);
  });

  it("is true when redis-info printed the server's own status", () => {
    const output =
      '\n  Version: 7.0.15\n  Operating System: Linux 6.1.0 x86_64\n  Architecture: 64 bits\n  Process ID: 4242\n  Used CPU (%): 0.05\n  Connected clients: 1';
    assert.equal(answeredWithoutCredentials([{ id: 'redis-info', output }]), true);
  });

  it('is true for memcached-info and mongodb-info answers', () => {
    assert.equal(
      answeredWithoutCredentials([{ id: 'memcached-info', output: '\n  Process ID: 77\n  Uptime: 12 seconds' }]),
      true,
    );
    assert.equal(
      answeredWithoutCredentials([{ id: 'mongodb-info', output: '\n  MongoDB Build info\n    version = 4.4.29' }]),
      true,
    );
  });

  it('is false when the service refused: NOAUTH, authentication required, unauthorized, an error', () => {
    for (const output of [
      'ERROR: NOAUTH Authentication required.',
      'Authentication required',
      '\n  MongoDB Build info\n    errmsg = command serverStatus requires authentication',
      'not authorized on admin to execute command',
      'ERROR: Failed to connect to server',
      '\n  Process ID: 77\n  TCP Port: 11211\n  Authentication: yes',
    ]) {
      assert.equal(answeredWithoutCredentials([{ id: 'redis-info', output }]), false, output);
    }
  });

  it('is false for empty output, for other scripts, and without scripts', () => {
    assert.equal(answeredWithoutCredentials([{ id: 'redis-info', output: '  ' }]), false);
    assert.equal(answeredWithoutCredentials([{ id: 'banner', output: 'Redis' }]), false);
    assert.equal(answeredWithoutCredentials([]), false);
  });
});
