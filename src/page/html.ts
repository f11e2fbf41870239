// Names from the cloud and the config are user input (a VM may be named `<script>alert(1)</script>`): one escape
// for text and attribute values, and mailto links built only from text that has the shape of an address.

/** Escapes text for an element's content or a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// What `<input type="email">` accepts (WHATWG): no space, angle bracket, quote or scheme-like prefix survives it,
// so a Keystone email of `javascript:alert(1)` or `a@b"><script>` never becomes a link.
const EMAIL_SHAPE =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

// The local part is percent-encoded: `?`, `#`, `%` and `&` are allowed in it but mean something else in a mailto
// URL. The result still needs escapeHtml to go into an attribute (`'` stays as it is).
export function buildMailtoHref(email: string): string | undefined {
  if (!EMAIL_SHAPE.test(email)) return undefined;
  const at = email.lastIndexOf('@');
  return `mailto:${encodeURIComponent(email.slice(0, at))}@${email.slice(at + 1)}`;
}
