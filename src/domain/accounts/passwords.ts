import argon2 from 'argon2';
import { config } from '../../config.ts';

/**
 * argon2id; defaults m=64 MiB, t=3 (OWASP's recommendation). The parameters are stored
 * in each hash, so changing them later still verifies old hashes.
 */
export const hashPassword = (plain: string): Promise<string> =>
  argon2.hash(plain, { type: argon2.argon2id, memoryCost: config.argon2.memoryCost, timeCost: config.argon2.timeCost });

export async function verifyPassword(hash: string, plain: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, plain);
  } catch {
    return false;
  }
}

// Verifying against a real hash when the account does not exist keeps login timing
// the same for known and unknown emails.
let dummy: Promise<string> | undefined;
export async function burnPasswordCheck(plain: string): Promise<void> {
  dummy ??= hashPassword('faultline-timing-equalizer');
  await verifyPassword(await dummy, plain);
}
