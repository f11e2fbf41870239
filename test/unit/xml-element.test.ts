import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XmlSyntaxError, parseStartTagAttributes, parseXmlElement } from '../../src/scan/xml-element.ts';
import type { ElementShape } from '../../src/scan/xml-element.ts';

const PORT_SHAPE: ElementShape = {
  attributes: ['protocol', 'portid'],
  children: { state: { attributes: ['state'] }, service: { attributes: ['name'] } },
};
const HOST_SHAPE: ElementShape = {
  attributes: ['timedout'],
  children: { address: { attributes: ['addr'] }, ports: { children: { port: PORT_SHAPE } } },
};

function syntaxError(message: string): { name: string; message: string } {
  return { name: 'XmlSyntaxError', message };
}

describe('parseXmlElement', () => {
  it('keeps only the shape’s elements and attributes, in document order', () => {
    const text =
      '<host starttime="1" timedout="true"><address addr="127.0.0.1" addrtype="ipv4"/>\n' +
      '<address addr="02:42:AC:11:00:02" addrtype="mac"/>\n<hostnames>\n<hostname name="x" type="PTR"/>\n</hostnames>\n' +
      '<ports><extraports state="closed" count="3">\n' +
      '<extrareasons reason="reset" count="3" proto="tcp" ports="1,3-4"/>\n</extraports>\n' +
      '<port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" conf="3"/></port>\n' +
      '<port protocol="udp" portid="161"><state state="open|filtered"/></port>\n' +
      '</ports>\n<times srtt="13" rttvar="5" to="100000"/>\n</host>';
    assert.deepEqual(parseXmlElement(text, HOST_SHAPE), {
      name: 'host',
      attributes: { timedout: 'true' },
      children: [
        { name: 'address', attributes: { addr: '127.0.0.1' }, children: [] },
        { name: 'address', attributes: { addr: '02:42:AC:11:00:02' }, children: [] },
        {
          name: 'ports',
          attributes: {},
          children: [
            {
              name: 'port',
              attributes: { protocol: 'tcp', portid: '22' },
              children: [
                { name: 'state', attributes: { state: 'open' }, children: [] },
                { name: 'service', attributes: { name: 'ssh' }, children: [] },
              ],
            },
            {
              name: 'port',
              attributes: { protocol: 'udp', portid: '161' },
              children: [{ name: 'state', attributes: { state: 'open|filtered' }, children: [] }],
            },
          ],
        },
      ],
    });
  });

  it('keeps values as written, entities undecoded, in either quote', () => {
    const element = parseXmlElement(`<a x="-&#45;x &amp; &lt;y&gt;" y='it&apos;s "so"'/>`, { attributes: ['x', 'y'] });
    assert.deepEqual(element.attributes, { x: '-&#45;x &amp; &lt;y&gt;', y: 'it&apos;s "so"' });
  });

  it('keeps a wanted element found only under a wanted parent', () => {
    const text =
      '<host><os><port protocol="tcp" portid="1"/></os><ports><port protocol="tcp" portid="2"/></ports></host>';
    const ports = parseXmlElement(text, HOST_SHAPE).children;
    assert.deepEqual(ports, [
      {
        name: 'ports',
        attributes: {},
        children: [{ name: 'port', attributes: { protocol: 'tcp', portid: '2' }, children: [] }],
      },
    ]);
  });

  it('steps over comments, CDATA sections, processing instructions and text, whatever they hold', () => {
    const text =
      '<host><!-- a <port> in a comment --><script id="x" output="y">text with &lt;tags&gt; &#233;' +
      '<![CDATA[ <port protocol="tcp" portid="9"/> & ]]><?pi <port>?></script>\n' +
      '<address addr="::1"  \n addrtype = "ipv6" /></host>';
    assert.deepEqual(parseXmlElement(text, HOST_SHAPE).children, [
      { name: 'address', attributes: { addr: '::1' }, children: [] },
    ]);
  });

  it('accepts a closing tag with space before its >, and names with dots, dashes and colons', () => {
    const element = parseXmlElement('<a-b.c:d k.e-y="1"><x></x ></a-b.c:d >', { attributes: ['k.e-y'] });
    assert.deepEqual(element, { name: 'a-b.c:d', attributes: { 'k.e-y': '1' }, children: [] });
  });

  const INVALID: readonly { readonly name: string; readonly text: string; readonly message: string }[] = [
    {
      name: 'an end tag that closes the wrong element, with where that one opened',
      text: '<host>\n<ports>\n  <port protocol="tcp" portid="22"><state state="open"/>\n</ports></host>',
      message: "Expected closing tag 'port' (opened in line 3, col 3) instead of closing tag 'ports'.",
    },
    { name: 'an element that is never closed', text: '<host><ports></ports>', message: "Unclosed tag 'host'." },
    {
      name: 'an attribute with no =',
      text: '<host><port portid/></host>',
      message: "Attribute 'portid' is without value.",
    },
    {
      name: 'an unquoted value',
      text: '<host><port portid=80/></host>',
      message: "Attribute 'portid' is without value.",
    },
    { name: 'a repeated attribute', text: '<host a="1" a="2"/>', message: "Attribute 'a' is repeated." },
    { name: 'a value that is never closed', text: '<host a="1/>', message: "Attribute 'a' has an unclosed value." },
    { name: 'a < in a value', text: '<host a="<b>"/>', message: "Attribute 'a' has < in its value." },
    {
      name: 'attributes without a space between them',
      text: '<host a="1"b="2"/>',
      message: "Tag 'host' needs a space before its attribute.",
    },
    {
      name: 'a / that does not end the tag',
      text: '<host / a="1">',
      message: "Tag 'host' has a / that does not end it.",
    },
    { name: 'a start tag cut short', text: '<host a="1"', message: "Tag 'host' is not closed." },
    {
      name: 'a bare & in text',
      text: '<host>\n  fish & chips</host>',
      message: 'Invalid entity reference in line 2, col 8.',
    },
    { name: 'a bare & in a value', text: '<host a="x & y"/>', message: 'Invalid entity reference in line 1, col 12.' },
    {
      name: 'an unterminated reference',
      text: '<host a="&#12"/>',
      message: 'Invalid entity reference in line 1, col 10.',
    },
    { name: 'text after the root element', text: '<host/>\n', message: "Extra text after the root element 'host'." },
    {
      name: 'a second root element',
      text: '<host></host><host></host>',
      message: "Extra text after the root element 'host'.",
    },
    { name: 'text before the root element', text: ' <host/>', message: 'The element does not start with a tag.' },
    {
      name: 'a tag name that is not a name',
      text: '<host><1a/></host>',
      message: 'Invalid tag name in line 1, col 8.',
    },
    {
      name: 'an end tag that is not a name',
      text: '<host></ host>',
      message: 'Invalid closing tag name in line 1, col 9.',
    },
    { name: 'an end tag cut short', text: '<host></host', message: "Closing tag 'host' does not end with >." },
    {
      name: 'an attribute name that is not a name',
      text: '<host ="1"/>',
      message: 'Invalid attribute name in line 1, col 7.',
    },
    { name: 'a comment that is never closed', text: '<host><!-- x </host>', message: 'Unclosed comment.' },
    {
      name: 'a CDATA section that is never closed',
      text: '<host><![CDATA[ x </host>',
      message: 'Unclosed CDATA section.',
    },
    {
      name: 'a processing instruction never closed',
      text: '<host><?x </host>',
      message: 'Unclosed processing instruction.',
    },
    {
      name: 'a DOCTYPE inside an element',
      text: '<host><!DOCTYPE x></host>',
      message: 'Unexpected <! in line 1, col 7.',
    },
  ];

  for (const { name, text, message } of INVALID) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseXmlElement(text, HOST_SHAPE), syntaxError(message));
    });
  }

  it('throws XmlSyntaxError instances, so callers can tell XML faults from their own bugs', () => {
    assert.throws(
      () => parseXmlElement('<a>', {}),
      (err: unknown) => err instanceof XmlSyntaxError,
    );
  });
});

describe('parseStartTagAttributes', () => {
  it('reads the wanted attributes of a lone start tag', () => {
    const tag = '<nmaprun scanner="nmap" args="nmap -&#45;open" start="1796159572" version="7.93">';
    assert.deepEqual(parseStartTagAttributes(tag, ['version', 'args', 'start']), {
      version: '7.93',
      args: 'nmap -&#45;open',
      start: '1796159572',
    });
  });

  it('reads a bare start tag as no attributes', () => {
    assert.deepEqual(parseStartTagAttributes('<nmaprun>', ['version']), {});
  });

  it('rejects a start tag with a malformed attribute', () => {
    assert.throws(
      () => parseStartTagAttributes('<nmaprun version=7.93>', ['version']),
      syntaxError("Attribute 'version' is without value."),
    );
  });
});
