/** One stream per tenant log. */
export const tenantStream = (tenant: string): string => `ledger-${tenant}`;
