import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answeredWithoutCredentials } from '../../src/scan/script-verdicts.ts';

describe('answeredWithoutCredentials', () => {
  it("is true when redis-info printed the server's own status", () => {
    const output = '\n  Version: 7.0.15\n  Operating System: Linux 6.1.0 x86_64\n  Architecture: 64 bits\n  Process ID: 4242\n  Used CPU (%): 0.05\n  Connected clients: 1';
    assert.equal(answeredWithoutCredentials([{ id: 'redis-info', output }]), true);
  });

  it('is true for memcached-info and mongodb-info answers', () => {
    assert.equal(answeredWithoutCredentials([{ id: 'memcached-info', output: '\n  Process ID: 77\n  Uptime: 12 seconds' }]), true);
    assert.equal(answeredWithoutCredentials([{ id: 'mongodb-info', output: '\n  MongoDB Build info\n    version = 4.4.29' }]), true);
  });

  it('is false when the service refused: NOAUTH, authentication required, unauthorized, an error', () => {
    for (const output of [
      'ERROR: NOAUTH Authentication required.',
      'Authentication required',
      '\n  MongoDB Build info\n    errmsg = command serverStatus requires authentication',
      'not authorized on admin to execute command',
      'ERROR: Failed to connect to server',
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
