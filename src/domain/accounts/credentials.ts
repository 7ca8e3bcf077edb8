import type { DataSource } from 'typeorm';
import { User } from '../../entities/User.ts';
import { forbidden, unauthorized } from '../errors.ts';
import { tokenType, verifyAccessToken } from './tokens.ts';

/**
 * The one place an access token becomes a user: REST (through the auth middleware),
 * uploads, `Expect: 100-continue` pre-checks and the live tail all call it, so the rules
 * cannot drift apart. 401 for a bad or expired token, an inactive or deleted user, or a
 * token issued before the user's last credential change (token_version); 403 for a
 * machine token, which is a real credential, only not for this.
 */
export async function userFromAccessToken(ds: DataSource, token: string): Promise<User> {
  let claims;
  try {
    claims = await verifyAccessToken(token);
  } catch (err) {
    if ((await tokenType(token)) === 'machine') throw forbidden('A machine token can only upload dumps', 'machine_token_not_allowed');
    throw err;
  }
  const user = await ds.getRepository(User).findOneBy({ id: claims.userId, isActive: true });
  if (!user) throw unauthorized('User is inactive or deleted', 'user_inactive');
  if (user.tokenVersion !== claims.version) {
    throw unauthorized('This session has ended (password, email or account status changed); log in again', 'token_revoked');
  }
  return user;
}
