import argon2 from 'argon2';
import { config } from '../../config.ts';
import { badRequest } from '../errors.ts';

/** The password policy, the one place it is decided: the API's schemas and the admin read it. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

/** 400 naming `password` unless it meets the policy. */
export function assertPasswordPolicy(plain: string): void {
  if (plain.length < PASSWORD_MIN_LENGTH || plain.length > PASSWORD_MAX_LENGTH) {
    throw badRequest(
      `The password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
      { password: [`at least ${PASSWORD_MIN_LENGTH} characters`] },
      'weak_password',
    );
  }
}

/**
 * argon2id; defaults m=64 MiB, t=3 (OWASP's recommendation). The parameters are stored
 * in each hash, so changing them later still verifies old hashes. Every new password
 * goes through here, so the policy is enforced for every way one is set.
 */
export function hashPassword(plain: string): Promise<string> {
  assertPasswordPolicy(plain);
  return argon2.hash(plain, { type: argon2.argon2id, memoryCost: config.argon2.memoryCost, timeCost: config.argon2.timeCost });
}

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
