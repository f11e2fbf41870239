// Most severe first; the config and exposure/'s severity table are both built on this list, so they never disagree.
export const SEVERITY_LEVELS = ['critical', 'high', 'medium', 'low'] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];
