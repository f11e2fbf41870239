import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPort } from '../../src/exposure/classify.ts';
import { UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import { serviceSeverity } from '../../src/exposure/service-severity.ts';
import type { DetectedService, ObservedPort } from '../../src/scan/types.ts';
import { rulesWith } from '../support/config.ts';

const NOW = new Date('2026-12-01T00:00:00Z');

function detected(name: string, product = ''): DetectedService {
  return { name, product, version: '', unauthenticated: false };
}

function severityOf(yaml: string, port: ObservedPort): string | null {
  return classifyPort(rulesWith(yaml), { ip: '198.51.100.7', owner: UNKNOWN_OWNER, port }, NOW).severity;
}

describe('serviceSeverity', () => {
  it('rates data stores high and container APIs critical by their nmap service name', () => {
    assert.equal(serviceSeverity(detected('redis')), 'high');
    assert.equal(serviceSeverity(detected('memcached')), 'high');
    assert.equal(serviceSeverity(detected('mongodb')), 'high');
    assert.equal(serviceSeverity(detected('docker')), 'critical');
    assert.equal(serviceSeverity(detected('domain')), 'medium');
  });

  it('reads the product of HTTP services: Elasticsearch, the Docker and Kubernetes APIs', () => {
    assert.equal(serviceSeverity(detected('http', 'Elasticsearch REST API')), 'high');
    assert.equal(serviceSeverity(detected('http', 'Docker')), 'critical');
    assert.equal(serviceSeverity(detected('ssl/http', 'Golang net/http server (Kubernetes API)')), 'critical');
    assert.equal(serviceSeverity(detected('http', 'nginx')), undefined);
  });

  it('has no rating for what it does not know', () => {
    assert.equal(serviceSeverity(detected('')), undefined);
    assert.equal(serviceSeverity(detected('http-proxy')), undefined);
  });
});

describe('classifyPort with a verified service', () => {
  it('raises Redis on 7777 from low to high, and the Docker API on 12375 to critical', () => {
    assert.equal(
      severityOf('', { port: 7777, protocol: 'tcp', service: 'redis', detected: detected('redis') }),
      'high',
    );
    assert.equal(
      severityOf('', { port: 12375, protocol: 'tcp', service: 'docker', detected: detected('docker', 'Docker') }),
      'critical',
    );
  });

  it('rates an unverified port by its number only, whatever nmap guessed its name', () => {
    assert.equal(severityOf('', { port: 7777, protocol: 'tcp', service: 'redis' }), 'low');
  });

  it('never lowers a port below its number: an HTTP server on 6379 stays high', () => {
    assert.equal(
      severityOf('', { port: 6379, protocol: 'tcp', service: 'http', detected: detected('http', 'nginx') }),
      'high',
    );
    assert.equal(
      severityOf('', { port: 2375, protocol: 'tcp', service: 'redis', detected: detected('redis') }),
      'critical',
    );
  });

  it("keeps the operator's severity_overrides level over what answers", () => {
    const yaml = 'severity_overrides: {"7777/tcp": low}\n';
    assert.equal(
      severityOf(yaml, { port: 7777, protocol: 'tcp', service: 'redis', detected: detected('redis') }),
      'low',
    );
  });

  it('leaves a standard port standard whatever answers', () => {
    const rules = rulesWith('');
    const port: ObservedPort = { port: 22, protocol: 'tcp', service: 'redis', detected: detected('redis') };
    assert.deepEqual(classifyPort(rules, { ip: '198.51.100.7', owner: UNKNOWN_OWNER, port }, NOW), {
      class: 'standard',
      severity: null,
      exception: null,
    });
  });
});
