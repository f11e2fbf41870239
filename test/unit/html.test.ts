import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildMailtoHref, escapeHtml } from '../../src/page/html.ts';

describe('escapeHtml', () => {
  it('escapes the five characters that end text or an attribute value, and nothing else', () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&</a> é`),
      '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62; é',
    );
  });

  it('turns a script tag into text', () => {
    assert.equal(escapeHtml('<script>alert(1)</script>'), '&#60;script&#62;alert(1)&#60;/script&#62;');
  });
});

describe('buildMailtoHref', () => {
  it('links an ordinary address', () => {
    assert.equal(buildMailtoHref('alice@example.org'), 'mailto:alice@example.org');
  });

  it('percent-encodes the characters of a local part that mean something else in a mailto URL', () => {
    assert.equal(buildMailtoHref('a?b#c%d&e+f@mail.example.org'), 'mailto:a%3Fb%23c%25d%26e%2Bf@mail.example.org');
  });

  const refused = [
    ['a script URL', 'javascript:alert(1)'],
    ['an address with an angle bracket', 'bob<b>@example.org'],
    ['an address that would close the attribute', 'a@b"><script>alert(1)</script>'],
    ['a list of two addresses', 'a@example.org,b@example.org'],
    ['an address with a space', 'a b@example.org'],
    ['a display name form', 'Alice <alice@example.org>'],
    ['two at signs', 'a@b@example.org'],
    ['no domain', 'alice@'],
    ['nothing', ''],
  ];
  for (const [what, email] of refused) {
    it(`refuses ${what}`, () => {
      assert.equal(buildMailtoHref(email!), undefined);
    });
  }
});
