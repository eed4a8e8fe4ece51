import { hash, verify } from '@node-rs/argon2';

// argon2id with the OWASP 2024 minimum (19 MiB, 2 passes); hashing runs on libuv's pool, off the event loop.
const options = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, options);
}

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (!storedHash) {
    // Spend the same time as a real check, so response timing does not reveal which emails exist.
    await hash(password, options);
    return false;
  }
  return verify(storedHash, password);
}
