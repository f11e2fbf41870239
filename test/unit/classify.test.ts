import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/schema.ts';
import { classifyPort, exceptionApplies, matchesGlob } from '../../src/exposure/classify.ts';
import type { Classification, ClassificationRules } from '../../src/exposure/classify.ts';
import { buildClassificationRules } from '../../src/state/exporter-config.ts';
import { UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import type { AddressOwner } from '../../src/inventory/inventory.ts';
import type { Protocol } from '../../src/net/port-spec.ts';
import { SHOP_DB, BLOG_WEB } from '../support/owners.ts';
import { rulesWith } from '../support/config.ts';

const NOW = new Date('2026-11-26T02:00:00.000Z');

function defaultRules(): ClassificationRules {
  return buildClassificationRules(defaultConfig());
}

/** One exception with the given match, expiring long after NOW unless told otherwise. */
function configWithException(match: string, expires = '2027-01-31'): ClassificationRules {
  return rulesWith(`
exceptions:
  - name: approved
    match: ${match}
    reason: "approved in SEC-123"
    expires: ${expires}
`);
}

function classify(
  config: ClassificationRules,
  target: { ip?: string; owner?: AddressOwner; port: number; protocol?: Protocol; service?: string },
  now: Date = NOW,
): Classification {
  return classifyPort(
    config,
    {
      ip: target.ip ?? '203.0.113.7',
      owner: target.owner ?? SHOP_DB,
      port: { port: target.port, protocol: target.protocol ?? 'tcp', service: target.service ?? '' },
    },
    now,
  );
}

const EXCEPTED = { class: 'excepted', severity: null, exception: 'approved' } as const;

describe('classifyPort', () => {
  describe('standard ports', () => {
    for (const port of [22, 80, 443]) {
      it(`${port}/tcp is standard under the default standard_ports`, () => {
        assert.deepEqual(classify(defaultRules(), { port }), { class: 'standard', severity: null, exception: null });
      });
    }

    it('a standard port number on another protocol is not standard', () => {
      assert.deepEqual(classify(defaultRules(), { port: 22, protocol: 'udp' }), {
        class: 'nonstandard',
        severity: 'low',
        exception: null,
      });
    });

    it('custom standard_ports replace the defaults', () => {
      const config = rulesWith('standard_ports: ["8443/tcp"]\n');
      assert.equal(classify(config, { port: 8443 }).class, 'standard');
      assert.deepEqual(classify(config, { port: 22 }), { class: 'nonstandard', severity: 'low', exception: null });
    });

    it('a standard port stays standard even when an exception also matches it', () => {
      const config = configWithException('{ports: ["22/tcp"]}');
      assert.equal(classify(config, { port: 22 }).class, 'standard');
    });
  });

  describe('nonstandard ports and severity', () => {
    it('an open redis port is nonstandard and high', () => {
      assert.deepEqual(classify(defaultRules(), { port: 6379, service: 'redis' }), {
        class: 'nonstandard',
        severity: 'high',
        exception: null,
      });
    });

    it('9200 is high by its number although nmap names it wap-wsp', () => {
      assert.deepEqual(classify(defaultRules(), { port: 9200, service: 'wap-wsp' }), {
        class: 'nonstandard',
        severity: 'high',
        exception: null,
      });
    });

    it('a port nmap calls ssh is not standard when its number is not', () => {
      assert.deepEqual(classify(defaultRules(), { port: 2222, service: 'ssh' }), {
        class: 'nonstandard',
        severity: 'low',
        exception: null,
      });
    });

    it('a port nmap calls redis on an unlisted number is low', () => {
      assert.equal(classify(defaultRules(), { port: 16379, service: 'redis' }).severity, 'low');
    });

    it('the Docker API is critical, rsync medium and an unlisted port low', () => {
      const config = defaultRules();
      assert.equal(classify(config, { port: 2375 }).severity, 'critical');
      assert.equal(classify(config, { port: 873 }).severity, 'medium');
      assert.equal(classify(config, { port: 8080 }).severity, 'low');
    });

    it('severity_overrides raise an unlisted port and change a built-in one', () => {
      const config = rulesWith('severity_overrides: {"8080/tcp": medium, "6379/tcp": critical, "2375/tcp": low}\n');
      assert.equal(classify(config, { port: 8080 }).severity, 'medium');
      assert.equal(classify(config, { port: 6379 }).severity, 'critical');
      assert.equal(classify(config, { port: 2375 }).severity, 'low');
      assert.equal(classify(config, { port: 27017 }).severity, 'high');
    });

    it('a severity override on a standard port leaves it standard', () => {
      const config = rulesWith('severity_overrides: {"22/tcp": critical}\n');
      assert.deepEqual(classify(config, { port: 22 }), { class: 'standard', severity: null, exception: null });
    });
  });

  describe('exceptions', () => {
    it('an exception by tenant name excepts that tenant and no other', () => {
      const config = configWithException('{tenant: shop}');
      assert.deepEqual(classify(config, { port: 6379 }), EXCEPTED);
      assert.deepEqual(classify(config, { port: 6379, owner: BLOG_WEB }), {
        class: 'nonstandard',
        severity: 'high',
        exception: null,
      });
    });

    it('an exception by tenant id matches the owner whose tenant id it is', () => {
      const config = configWithException(`{tenant: "${SHOP_DB.tenantId}"}`);
      assert.deepEqual(classify(config, { port: 6379 }), EXCEPTED);
      assert.equal(classify(config, { port: 6379, owner: BLOG_WEB }).class, 'nonstandard');
    });

    it('an exception by tenant never matches an address with no known owner', () => {
      const config = configWithException('{tenant: shop}');
      assert.equal(classify(config, { port: 6379, owner: UNKNOWN_OWNER }).class, 'nonstandard');
    });

    it('a vm_name glob with * matches the whole name only', () => {
      const config = configWithException('{vm_name: "db-*"}');
      assert.equal(classify(config, { port: 6379, owner: { ...SHOP_DB, vmName: 'db-1' } }).class, 'excepted');
      assert.equal(classify(config, { port: 6379, owner: { ...SHOP_DB, vmName: 'db-' } }).class, 'excepted');
      assert.equal(classify(config, { port: 6379, owner: { ...SHOP_DB, vmName: 'shop-db-1' } }).class, 'nonstandard');
      assert.equal(classify(config, { port: 6379, owner: BLOG_WEB }).class, 'nonstandard');
    });

    it('a vm_name glob with ? matches exactly one character', () => {
      const config = configWithException('{vm_name: "db-?"}');
      assert.equal(classify(config, { port: 6379, owner: { ...SHOP_DB, vmName: 'db-7' } }).class, 'excepted');
      assert.equal(classify(config, { port: 6379, owner: { ...SHOP_DB, vmName: 'db-10' } }).class, 'nonstandard');
    });

    it('an exception by CIDR covers the addresses inside it only', () => {
      const config = configWithException('{ip: "203.0.113.0/28"}');
      assert.equal(classify(config, { port: 6379, ip: '203.0.113.0' }).class, 'excepted');
      assert.equal(classify(config, { port: 6379, ip: '203.0.113.15' }).class, 'excepted');
      assert.equal(classify(config, { port: 6379, ip: '203.0.113.16' }).class, 'nonstandard');
    });

    it('an exception by address range includes both ends', () => {
      const config = configWithException('{ip: "203.0.113.20-203.0.113.30"}');
      assert.equal(classify(config, { port: 6379, ip: '203.0.113.19' }).class, 'nonstandard');
      assert.equal(classify(config, { port: 6379, ip: '203.0.113.20' }).class, 'excepted');
      assert.equal(classify(config, { port: 6379, ip: '203.0.113.30' }).class, 'excepted');
      assert.equal(classify(config, { port: 6379, ip: '203.0.113.31' }).class, 'nonstandard');
    });

    it('an exception for a single address matches that address only', () => {
      const config = configWithException('{ip: "203.0.113.7"}');
      assert.equal(classify(config, { port: 6379, ip: '203.0.113.7' }).class, 'excepted');
      assert.equal(classify(config, { port: 6379, ip: '203.0.113.8' }).class, 'nonstandard');
    });

    it('an IPv4 exception never covers an IPv6 address with the same low bits', () => {
      const config = configWithException('{ip: "203.0.113.0/24"}');
      assert.equal(classify(config, { port: 6379, ip: '::cb00:7107' }).class, 'nonstandard');
    });

    it('an IPv6 exception covers IPv6 addresses in its prefix', () => {
      const config = configWithException('{ip: "2001:db8::/64"}');
      assert.equal(classify(config, { port: 6379, ip: '2001:db8::5' }).class, 'excepted');
      assert.equal(classify(config, { port: 6379, ip: '2001:db8:0:1::5' }).class, 'nonstandard');
    });

    it('an exception by ports covers the listed port/protocol keys only', () => {
      const config = configWithException('{ports: ["6379/tcp", "11211/tcp"]}');
      assert.deepEqual(classify(config, { port: 6379 }), EXCEPTED);
      assert.deepEqual(classify(config, { port: 11211 }), EXCEPTED);
      assert.equal(classify(config, { port: 27017 }).class, 'nonstandard');
      assert.equal(classify(config, { port: 6379, protocol: 'udp' }).class, 'nonstandard');
    });

    describe('an exception with every key applies only when all of them match', () => {
      const config = configWithException('{tenant: shop, vm_name: "db-*", ip: "203.0.113.0/28", ports: ["6379/tcp"]}');

      it('matches when tenant, name, address and port all match', () => {
        assert.deepEqual(classify(config, { port: 6379, ip: '203.0.113.7' }), EXCEPTED);
      });

      it('does not match another tenant', () => {
        assert.equal(
          classify(config, { port: 6379, owner: { ...SHOP_DB, tenant: 'blog', tenantId: 'x' } }).class,
          'nonstandard',
        );
      });

      it('does not match another VM name', () => {
        assert.equal(classify(config, { port: 6379, owner: { ...SHOP_DB, vmName: 'cache-1' } }).class, 'nonstandard');
      });

      it('does not match an address outside the range', () => {
        assert.equal(classify(config, { port: 6379, ip: '203.0.113.77' }).class, 'nonstandard');
      });

      it('does not match another port', () => {
        assert.equal(classify(config, { port: 27017 }).class, 'nonstandard');
      });
    });

    it('the first matching exception names the excepted port', () => {
      const config = rulesWith(`
exceptions:
  - name: shop-cache
    match: {tenant: shop, ports: ["6379/tcp"]}
    reason: "SEC-1"
    expires: 2027-01-31
  - name: shop-everything
    match: {tenant: shop}
    reason: "SEC-2"
    expires: 2027-01-31
`);
      assert.equal(classify(config, { port: 6379 }).exception, 'shop-cache');
      assert.equal(classify(config, { port: 27017 }).exception, 'shop-everything');
    });

    it('an exception that expires exactly now no longer applies', () => {
      const config = configWithException('{tenant: shop}', '2026-11-26T02:00:00Z');
      assert.deepEqual(classify(config, { port: 6379 }, NOW), {
        class: 'nonstandard',
        severity: 'high',
        exception: null,
      });
    });

    it('an exception that expires a millisecond after now still applies', () => {
      const config = configWithException('{tenant: shop}', '2026-11-26T02:00:00.001Z');
      assert.deepEqual(classify(config, { port: 6379 }, NOW), EXCEPTED);
    });

    it('an exception expiring on a date still applies during that day', () => {
      const config = configWithException('{tenant: shop}', '2026-11-26');
      assert.deepEqual(classify(config, { port: 6379 }, new Date('2026-11-26T23:59:59.999Z')), EXCEPTED);
      assert.equal(classify(config, { port: 6379 }, new Date('2026-11-27T00:00:00.000Z')).class, 'nonstandard');
    });
  });
});

describe('exceptionApplies', () => {
  it('takes the port as a port/protocol key', () => {
    const [exception] = configWithException('{ports: ["27017/tcp"]}').exceptions;
    assert.ok(exception);
    assert.equal(exceptionApplies(exception, '203.0.113.7', SHOP_DB, '27017/tcp', NOW), true);
    assert.equal(exceptionApplies(exception, '203.0.113.7', SHOP_DB, '27017/udp', NOW), false);
  });
});

describe('matchesGlob', () => {
  const cases: [pattern: string, text: string, expected: boolean][] = [
    ['db-*', 'db-1', true],
    ['db-*', 'db-primary', true],
    ['db-*', 'xdb-1', false],
    ['*-db', 'shop-db', true],
    ['db-?', 'db-1', true],
    ['db-?', 'db-', false],
    ['db.1', 'db.1', true],
    ['db.1', 'dbx1', false],
    ['db+1', 'db+1', true],
    ['db+1', 'dbb1', false],
    ['(db)', '(db)', true],
    ['db-1', 'DB-1', false],
    ['*', '', true],
  ];
  for (const [pattern, text, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(text)}`, () => {
      assert.equal(matchesGlob(pattern, text), expected);
    });
  }
});
