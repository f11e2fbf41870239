/** A small reader of the Prometheus text format, enough to assert on samples by name and labels, and its linter. */
import { runTool } from './run-tool.ts';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = SAMPLE.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = JSON.parse(`"${value}"`) as string;
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

export function samplesNamed(samples: readonly Sample[], name: string): Sample[] {
  return samples.filter((sample) => sample.name === name);
}

/** The single value of a metric with these labels; throws when it is missing, so a test cannot pass by accident. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

/** What `promtool check metrics` says of an exposition (its stdout and stderr together, trimmed) and its exit code. */
export async function lintExposition(text: string): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await runTool('promtool', ['check', 'metrics'], { input: text });
  return { code, output: `${stdout}${stderr}`.trim() };
}
