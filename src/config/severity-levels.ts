/**
 * The severity levels a config may name (`severity_overrides`), most severe first. The config validates
 * against them; core's severity table is built on the same list, so the two can never disagree.
 */
export const SEVERITY_LEVELS = ['critical', 'high', 'medium', 'low'] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];
