/** The stable finding codes of PRODUCT.md, with their severity. */
export const FINDING_SEVERITY = {
  'purpose-undeclared': 'high',
  'category-not-declared': 'medium',
  'consent-missing': 'high',
  'recipient-unknown': 'high',
  'agreement-missing': 'high',
  'authority-request-missing': 'high',
  'location-outside-residency': 'high',
  'transfer-without-safeguard': 'high',
  'retention-exceeded': 'medium',
  'retention-unbounded': 'warning',
  'erased-before-minimum': 'high',
  'processing-after-erasure': 'high',
  'processing-while-restricted': 'high',
  'subject-request-overdue': 'medium',
  'system-unknown': 'medium',
} as const;

export type FindingCode = keyof typeof FINDING_SEVERITY;
export type Severity = (typeof FINDING_SEVERITY)[FindingCode];
export const FINDING_CODES = Object.keys(FINDING_SEVERITY) as FindingCode[];
export const SEVERITIES = ['high', 'medium', 'warning'] as const satisfies readonly Severity[];

/** A breach of the declared policy, in plain words: what happened and which declaration it broke. */
export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly message: string;
}

export const finding = (code: FindingCode, message: string): Finding => ({ code, severity: FINDING_SEVERITY[code], message });
