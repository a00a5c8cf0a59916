/** The data category under which each kind of identifier is encrypted (PRODUCT.md vocabulary). */
const CATEGORY_OF_KIND: Record<string, string> = {
  ip: 'user.device.ip_address',
  email: 'user.contact.email',
  phone: 'user.contact.phone_number',
  cookie: 'user.device.cookie_id',
  name: 'user.name',
};

export const categoryOfIdentifier = (kind: string): string => CATEGORY_OF_KIND[kind] ?? 'user.unique_id';

/** Normalises an identifier for the blind index, so `B@Example.org` and `b@example.org` meet. */
export function normaliseIdentifier(kind: string, value: string): string {
  const v = value.trim();
  switch (kind) {
    case 'email':
    case 'ip':
    case 'cookie':
      return v.toLowerCase();
    case 'phone':
      return v.replace(/[\s().-]/g, '');
    default:
      return v;
  }
}
