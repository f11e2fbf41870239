/** Keystone tokens as data: the URL a token request goes to, and a token answer read into a held token. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTokenRequest, buildTokensUrl, parseTokenBody } from '../../src/openstack/session/keystone-token.ts';
import { ExporterError } from '../../src/errors.ts';
import { DAY_MS, ISSUED_AT_MS, RECORDED_TOKEN, fixtureText } from '../support/keystone-replay.ts';

const WHAT = 'POST identity /v3/auth/tokens';
const RECORDED = JSON.parse(fixtureText('keystone_token_password_project_scoped.json')) as {
  token: Record<string, unknown>;
};

function answer(
  edit: (token: Record<string, unknown>) => void = () => {},
  startedAtMs = ISSUED_AT_MS,
): Parameters<typeof parseTokenBody>[0] {
  const body = structuredClone(RECORDED);
  edit(body.token);
  return { text: JSON.stringify(body), value: RECORDED_TOKEN, startedAtMs, what: WHAT };
}

function messageOf(input: Parameters<typeof parseTokenBody>[0]): string {
  try {
    parseTokenBody(input);
  } catch (err) {
    assert.ok(err instanceof ExporterError);
    assert.equal(err.code, 'OPENSTACK_AUTH');
    return err.message;
  }
  assert.fail('expected an OPENSTACK_AUTH error');
}

describe('buildTokensUrl', () => {
  it('posts to /v3/auth/tokens whether or not auth_url ends in /v3', () => {
    assert.deepEqual(
      [
        'https://k:5000',
        'https://k:5000/',
        'https://k:5000/v3',
        'https://k:5000/v3/',
        'https://k/identity/v3?x=1',
        'https://k/identity',
      ].map((url) => buildTokensUrl(url).href),
      [
        'https://k:5000/v3/auth/tokens',
        'https://k:5000/v3/auth/tokens',
        'https://k:5000/v3/auth/tokens',
        'https://k:5000/v3/auth/tokens',
        'https://k/identity/v3/auth/tokens',
        'https://k/identity/v3/auth/tokens',
      ],
    );
  });
});

describe('buildTokenRequest', () => {
  it('scopes a password user to a project by name within its domain', () => {
    assert.deepEqual(
      buildTokenRequest({
        type: 'password',
        user: { id: 'u-1' },
        password: 'pw',
        scope: { project: { name: 'alpha', domain: { id: 'default' } } },
      }),
      {
        auth: {
          identity: { methods: ['password'], password: { user: { id: 'u-1', password: 'pw' } } },
          scope: { project: { name: 'alpha', domain: { id: 'default' } } },
        },
      },
    );
  });
});

describe('parseTokenBody', () => {
  it('reads the value, expiry and catalog of a recorded token', () => {
    const held = parseTokenBody(answer());
    assert.deepEqual(
      [held.token.value, held.token.expiresAt.toISOString(), held.token.catalog.map((service) => service.type)],
      [RECORDED_TOKEN, '2026-11-27T13:17:56.000Z', ['identity', 'image', 'placement', 'compute', 'network']],
    );
  });

  it('renews a day-long token 60 s before it expires, laid onto our clock from when we asked', () => {
    const skewedStart = ISSUED_AT_MS + 5 * DAY_MS;
    assert.equal(parseTokenBody(answer(undefined, skewedStart)).renewAtMs, skewedStart + DAY_MS - 60_000);
  });

  it('renews a five-minute token a tenth of its lifetime before it expires', () => {
    const held = parseTokenBody(answer((token) => (token['expires_at'] = '2026-11-26T13:22:56.000000Z'), 1_000_000));
    assert.equal(held.renewAtMs, 1_000_000 + 300_000 - 30_000);
  });

  it('measures the lifetime from when we asked when the answer has no issued_at', () => {
    const startedAtMs = Date.parse('2026-11-27T13:07:56Z');
    const held = parseTokenBody(answer((token) => delete token['issued_at'], startedAtMs));
    assert.equal(held.renewAtMs, startedAtMs + 600_000 - 60_000);
  });

  it('refuses answers a token cannot be made of, naming what is missing', () => {
    assert.deepEqual(
      [
        messageOf({ ...answer(), text: '<html>' }),
        messageOf({ ...answer(), text: '[]' }),
        messageOf(answer((token) => delete token['expires_at'])),
        messageOf(answer((token) => (token['expires_at'] = 'tomorrow'))),
        messageOf(answer((token) => delete token['catalog'])),
        messageOf(answer((token) => (token['expires_at'] = token['issued_at']))),
      ],
      [
        `${WHAT}: the answer is not JSON`,
        `${WHAT}: the answer: not a JSON object, got a list`,
        `${WHAT}: token.expires_at: not a time`,
        `${WHAT}: token.expires_at: not a time`,
        `${WHAT}: the token has no service catalog (is it scoped to a project or the system?)`,
        `${WHAT}: the token expires before it was issued`,
      ],
    );
  });
});
