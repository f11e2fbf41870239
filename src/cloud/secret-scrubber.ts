/**
 * Keeps secrets out of messages. Our own messages never include them; this is for text someone else wrote
 * (an OpenStack error body, a library's error) that may echo a password or a token back at us.
 */
const REDACTED = '[redacted]';

export class SecretScrubber {
  readonly #secrets = new Set<string>();

  constructor(secrets: readonly string[] = []) {
    for (const secret of secrets) this.add(secret);
  }

  /** Adds a secret learnt later, such as a token just issued. */
  add(secret: string): void {
    if (secret !== '') this.#secrets.add(secret);
  }

  /** The text with every known secret replaced by `[redacted]`. */
  scrub(text: string): string {
    // Longest first, so a secret that contains another is removed whole.
    const secrets = [...this.#secrets].sort((a, b) => b.length - a.length);
    return secrets.reduce((result, secret) => result.split(secret).join(REDACTED), text);
  }
}
