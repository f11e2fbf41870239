/** Scrubs secrets from text others wrote (an OpenStack error body, a library error) that may echo them back. */
const REDACTED = '[redacted]';

export class SecretScrubber {
  readonly #secrets = new Set<string>();

  constructor(secrets: readonly string[] = []) {
    for (const secret of secrets) this.add(secret);
  }

  add(secret: string): void {
    if (secret !== '') this.#secrets.add(secret);
  }

  scrub(text: string): string {
    // Longest first, so a secret that contains another is removed whole.
    const secrets = [...this.#secrets].sort((a, b) => b.length - a.length);
    return secrets.reduce((result, secret) => result.split(secret).join(REDACTED), text);
  }
}
