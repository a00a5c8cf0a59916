import * as t from 'io-ts';
import { boundedArray, boundedString, struct } from '../../common/kernel/codec.js';
import { countryCodeOf } from '../../common/kernel/ids.js';

export const ResidencyItem = countryCodeOf('a residency item', 'an ISO 3166-1 alpha-2 country code, EU or EEA', ['EU', 'EEA']);

const tenantBody = (item: t.Type<string, string, unknown>) => struct('a tenant', { name: boundedString('a name', 256) }, { residency: boundedArray(item, 1, 64, 'residency') });
export const TenantBody = tenantBody(ResidencyItem);
export type TenantBody = t.TypeOf<typeof TenantBody>;
/** A tenant's settings as a `tenant-declared` entry may hold them: residency items of the shape accepted until 2026-12-02. */
export const RecordedTenantBody = tenantBody(boundedString('a residency item', 3, /^([A-Z]{2}|EU|EEA)$/, 'an ISO country code, EU or EEA'));

/** Tenant ids appear in paths and stream names: keep them to a plain slug. */
export const TenantId = boundedString('a tenant id', 64, /^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and "-"');

/** Where a tenant's personal data may be kept when it declares nothing: the EEA. */
export const DEFAULT_RESIDENCY: readonly string[] = ['EEA'];

/** The residency a tenant's declared settings give (also those read back from a `tenant-declared` entry). */
export const residencyOf = (settings: { readonly residency?: readonly string[] } | undefined): readonly string[] => settings?.residency ?? DEFAULT_RESIDENCY;

export interface TenantSettings {
  readonly id: string;
  readonly name: string;
  readonly residency: readonly string[];
}
