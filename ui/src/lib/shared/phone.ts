/** E.164 for display: North American numbers as "(512) 555-0142", others left as dialled. */
export function formatPhone(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  if (m) return `(${m[1]}) ${m[2]}-${m[3]}`;
  return e164;
}

/** "+1 512-555-0100" for banners, where the country matters. */
export function formatPhoneIntl(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  if (m) return `+1 ${m[1]}-${m[2]}-${m[3]}`;
  return e164;
}
