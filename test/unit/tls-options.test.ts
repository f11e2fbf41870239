import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildSecureContextOptions,
  checkClientCertificate,
  parseSubjectAltNames,
  refuseCipherSuite,
  requestsClientCertificate,
} from '../../src/web/tls-options.ts';
import type { PeerCertificate, TlsSettings } from '../../src/web/tls-options.ts';

const MATERIAL = { cert: 'CERT PEM', key: 'KEY PEM', clientCa: undefined };
const DEFAULTS: TlsSettings = {
  minVersion: 'TLS12',
  maxVersion: 'TLS13',
  cipherSuites: [],
  curvePreferences: [],
  preferServerCipherSuites: true,
};
const NO_CERT: PeerCertificate = { present: false, verified: false, verifyError: undefined, sans: [] };
const GOOD_CERT: PeerCertificate = {
  present: true,
  verified: true,
  verifyError: undefined,
  sans: ['client-a.example'],
};
const UNVERIFIED_CERT: PeerCertificate = {
  present: true,
  verified: false,
  verifyError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  sans: ['client-a.example'],
};

describe('buildSecureContextOptions', () => {
  it('leaves ciphers and curves to Node.js when none are listed, with TLS 1.2 as the floor', () => {
    assert.deepEqual(buildSecureContextOptions(DEFAULTS, MATERIAL), {
      cert: 'CERT PEM',
      key: 'KEY PEM',
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: true,
    });
  });

  it('maps Go cipher names to OpenSSL names in order and keeps every TLS 1.3 suite on', () => {
    const options = buildSecureContextOptions(
      {
        ...DEFAULTS,
        cipherSuites: [
          'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
          'TLS_AES_128_GCM_SHA256',
          'TLS_RSA_WITH_AES_128_CBC_SHA',
          'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
        ],
      },
      MATERIAL,
    );
    assert.equal(
      options.ciphers,
      'ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:ECDHE-ECDSA-CHACHA20-POLY1305:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
    );
  });

  it('maps curves to OpenSSL group names in preference order', () => {
    assert.equal(
      buildSecureContextOptions(
        { ...DEFAULTS, curvePreferences: ['X25519', 'CurveP521', 'CurveP384', 'CurveP256'] },
        MATERIAL,
      ).ecdhCurve,
      'X25519:P-521:P-384:P-256',
    );
  });

  it('maps every TLS version name and prefer_server_cipher_suites', () => {
    const mapped = (['TLS10', 'TLS11', 'TLS12', 'TLS13'] as const).map(
      (version) => buildSecureContextOptions({ ...DEFAULTS, minVersion: version }, MATERIAL).minVersion,
    );
    assert.deepEqual(mapped, ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);
    assert.equal(
      buildSecureContextOptions({ ...DEFAULTS, preferServerCipherSuites: false }, MATERIAL).honorCipherOrder,
      false,
    );
  });

  it('passes the client CA to verify client certificates against', () => {
    assert.equal(buildSecureContextOptions(DEFAULTS, { ...MATERIAL, clientCa: 'CA PEM' }).ca, 'CA PEM');
  });
});

describe('refuseCipherSuite', () => {
  it('says when a suite is one Go knows but counts as insecure', () => {
    assert.match(refuseCipherSuite('TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA'), /Go counts as insecure/);
    assert.match(
      refuseCipherSuite('TLS_NOPE'),
      /^"TLS_NOPE" is not a cipher suite name Go offers; use one of TLS_RSA_WITH_AES_128_CBC_SHA, /,
    );
  });
});

describe('checkClientCertificate', () => {
  const policy = (
    clientAuthType: Parameters<typeof checkClientCertificate>[0]['clientAuthType'],
    clientAllowedSans?: string[],
  ) => ({
    clientAuthType,
    clientAllowedSans,
    clientCa: { kind: 'file' as const },
  });

  it('asks for a certificate under every policy but NoClientCert', () => {
    assert.deepEqual(
      (
        [
          'NoClientCert',
          'RequestClientCert',
          'RequireAnyClientCert',
          'VerifyClientCertIfGiven',
          'RequireAndVerifyClientCert',
        ] as const
      ).map(requestsClientCertificate),
      [false, true, true, true, true],
    );
  });

  it('lets anyone in under NoClientCert and RequestClientCert, verified or not', () => {
    for (const type of ['NoClientCert', 'RequestClientCert'] as const) {
      for (const peer of [NO_CERT, GOOD_CERT, UNVERIFIED_CERT])
        assert.equal(checkClientCertificate(policy(type), peer), undefined);
    }
  });

  it('needs some certificate, verified or not, under RequireAnyClientCert', () => {
    assert.equal(
      checkClientCertificate(policy('RequireAnyClientCert'), NO_CERT),
      'RequireAnyClientCert requires a client certificate and the client sent none',
    );
    assert.equal(checkClientCertificate(policy('RequireAnyClientCert'), UNVERIFIED_CERT), undefined);
  });

  it('verifies a certificate only when one is given under VerifyClientCertIfGiven', () => {
    assert.equal(checkClientCertificate(policy('VerifyClientCertIfGiven'), NO_CERT), undefined);
    assert.equal(checkClientCertificate(policy('VerifyClientCertIfGiven'), GOOD_CERT), undefined);
    assert.equal(
      checkClientCertificate(policy('VerifyClientCertIfGiven'), UNVERIFIED_CERT),
      'the client certificate does not verify against client_ca_file (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    );
  });

  it('names the system roots when no client CA is configured', () => {
    assert.equal(
      checkClientCertificate({ ...policy('RequireAndVerifyClientCert'), clientCa: undefined }, UNVERIFIED_CERT),
      "the client certificate does not verify against the system's trusted roots (UNABLE_TO_VERIFY_LEAF_SIGNATURE)",
    );
  });

  it('needs a verified certificate under RequireAndVerifyClientCert', () => {
    assert.equal(
      checkClientCertificate(policy('RequireAndVerifyClientCert'), NO_CERT),
      'RequireAndVerifyClientCert requires a client certificate and the client sent none',
    );
    assert.match(
      checkClientCertificate(policy('RequireAndVerifyClientCert'), UNVERIFIED_CERT) ?? '',
      /does not verify/,
    );
    assert.equal(checkClientCertificate(policy('RequireAndVerifyClientCert'), GOOD_CERT), undefined);
  });

  it('matches allowed SANs exactly, IP addresses by value', () => {
    const sans = policy('RequireAndVerifyClientCert', ['client-a.example', '::1']);
    assert.equal(checkClientCertificate(sans, GOOD_CERT), undefined);
    assert.equal(checkClientCertificate(sans, { ...GOOD_CERT, sans: ['0:0:0:0:0:0:0:1'] }), undefined);
    assert.equal(
      checkClientCertificate(sans, { ...GOOD_CERT, sans: ['x.client-a.example', 'CLIENT-A.example'] }),
      'the client certificate has none of the client_allowed_sans (it has x.client-a.example, CLIENT-A.example)',
    );
    assert.equal(
      checkClientCertificate(sans, { ...GOOD_CERT, sans: [] }),
      'the client certificate has none of the client_allowed_sans (it has no SAN)',
    );
  });
});

describe('parseSubjectAltNames', () => {
  it('reads DNS names, IP addresses, e-mail addresses and URIs', () => {
    assert.deepEqual(
      parseSubjectAltNames(
        'DNS:a.example, IP Address:127.0.0.1, email:ops@example.com, URI:spiffe://cluster/prometheus',
      ),
      ['a.example', '127.0.0.1', 'ops@example.com', 'spiffe://cluster/prometheus'],
    );
  });

  it('reads values Node.js quotes because they hold a comma', () => {
    assert.deepEqual(parseSubjectAltNames('URI:"http://a.example/x,y", DNS:b.example'), [
      'http://a.example/x,y',
      'b.example',
    ]);
  });

  it('reads nothing from a certificate without SANs', () => {
    assert.deepEqual(parseSubjectAltNames(undefined), []);
  });
});
