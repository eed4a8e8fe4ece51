/** [first, last] address of an IPv4 CIDR as 32-bit numbers. */
export function cidrRange(cidr: string): [number, number] {
  const [address, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255)) || !(bits >= 0 && bits <= 32)) {
    throw new Error(`not an IPv4 CIDR: ${cidr}`);
  }
  const base = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
  const size = 2 ** (32 - bits);
  if (base % size !== 0) throw new Error(`${cidr} has host bits set`);
  return [base, base + size - 1];
}

export function overlaps(a: string, b: string): boolean {
  const [a1, a2] = cidrRange(a);
  const [b1, b2] = cidrRange(b);
  return a1 <= b2 && b1 <= a2;
}
