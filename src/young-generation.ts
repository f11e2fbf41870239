// Keeps V8's young generation at its start-up size: grown to its maximum while a snapshot is built, it held half
// a 20,000-host server's memory for no gain in time (docs/design-notes.md, bench/README.md).
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
