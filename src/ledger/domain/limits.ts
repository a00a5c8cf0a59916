/** Input limits; each error that hits one names it. */
export const LIMITS = {
  batchSize: 1000,
  bodyBytes: 8 * 1024 * 1024,
  subjectId: 256,
  identifierValue: 512,
  identifiers: 16,
  categories: 32,
  text: 512,
} as const;
