/**
 * A socket's source address as limits and bans count it: an IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, from a dual-stack listener) is the IPv4 address it maps.
 */
export const plainAddress = (a: string | undefined): string =>
  a?.startsWith('::ffff:') ? a.slice(7) : (a ?? 'unknown');
