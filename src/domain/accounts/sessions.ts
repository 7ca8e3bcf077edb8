import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { config } from '../../config.ts';
import { RefreshToken } from '../../entities/RefreshToken.ts';
import { unauthorized } from '../errors.ts';
import { signAccessToken, signRefreshToken, verifyRefreshToken, type TokenSubject } from './tokens.ts';

export interface TokenPair {
  access: string;
  refresh: string;
}

async function issue(em: EntityManager, user: TokenSubject, family: string): Promise<TokenPair> {
  const jti = randomUUID();
  await em.insert(RefreshToken, { jti, userId: user.id, family, expiresAt: new Date(Date.now() + config.jwt.refreshTtlSeconds * 1000) });
  const [access, refresh] = await Promise.all([signAccessToken(user), signRefreshToken(user, jti)]);
  return { access, refresh };
}

/**
 * A new login session: an access token and the first refresh token of a new family,
 * under the token_version read with the password that was checked — a password change
 * racing this login leaves it with tokens of the old version, refused everywhere.
 */
export function startSession(ds: DataSource, user: TokenSubject): Promise<TokenPair> {
  return issue(ds.manager, user, randomUUID());
}

/** The user's current token_version, or null when they are inactive or deleted. */
async function currentVersion(em: EntityManager, userId: number): Promise<number | null> {
  const rows: Array<{ token_version: number }> = await em.query(`SELECT token_version FROM users WHERE id = $1 AND is_active`, [userId]);
  return rows[0]?.token_version ?? null;
}

/** A lone access token for a signed-in user (the admin's live tail page), under their current token_version. */
export async function accessTokenFor(ds: DataSource, userId: number): Promise<string> {
  const version = await currentVersion(ds.manager, userId);
  if (version === null) throw unauthorized('User is inactive or deleted', 'user_inactive');
  return signAccessToken({ id: userId, tokenVersion: version });
}

/**
 * Refresh with rotation: the presented token is spent and a new pair issued in the same
 * family. Presenting a spent token again means it leaked: the whole family is revoked.
 * A token from before the user's last credential change (an older token_version) is
 * refused even if its row was never revoked.
 */
export async function rotate(ds: DataSource, refreshJwt: string): Promise<TokenPair> {
  const claims = await verifyRefreshToken(refreshJwt);
  const outcome = await ds.transaction(async (em) => {
    const row = await em.findOne(RefreshToken, { where: { jti: claims.jti }, lock: { mode: 'pessimistic_write' } });
    if (!row || row.revokedAt || row.userId !== claims.userId) return { error: 'token_revoked' as const };
    if (row.usedAt) {
      await em.update(RefreshToken, { family: row.family }, { revokedAt: new Date() });
      return { error: 'token_reused' as const };
    }
    const version = await currentVersion(em, row.userId);
    if (version === null) return { error: 'user_inactive' as const };
    if (version !== claims.version) return { error: 'token_revoked' as const };
    await em.update(RefreshToken, { jti: row.jti }, { usedAt: new Date() });
    // Signed with the version read above: a credential change committing meanwhile makes this pair stale too.
    return { pair: await issue(em, { id: row.userId, tokenVersion: version }, row.family) };
  });
  if ('error' in outcome) {
    const message = outcome.error === 'user_inactive' ? 'User is inactive or deleted' : 'Refresh token is no longer valid';
    throw unauthorized(message, outcome.error);
  }
  return outcome.pair;
}

/** Logout: the token's whole family (this login session) stops refreshing. */
export async function endSession(ds: DataSource, refreshJwt: string): Promise<void> {
  const claims = await verifyRefreshToken(refreshJwt, { allowExpired: true });
  await ds.query(
    `UPDATE refresh_tokens SET revoked_at = now()
      WHERE family = (SELECT family FROM refresh_tokens WHERE jti = $1) AND revoked_at IS NULL`,
    [claims.jti],
  );
}

/** Every session of a user (password change, deactivation). Their access tokens die with the token_version bump. */
export async function endAllSessions(em: EntityManager, userId: number): Promise<void> {
  await em.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
}

/**
 * How long an expired refresh token's row is kept. Its JWT expires with it, so it can no
 * longer be presented; the day is slack for clocks and for anyone reading the table.
 */
export const REFRESH_TOKEN_PRUNE_GRACE_MS = 24 * 3600 * 1000;
const PRUNE_BATCH_SIZE = 1000;

/**
 * Deletes refresh tokens that expired more than `graceMs` ago, `batchSize` rows per
 * statement: each batch is its own short transaction and skips rows a rotation or a
 * logout holds, so sessions never wait on it. Revoked and spent tokens that have not
 * expired stay — presenting one again is how reuse is detected. Returns how many went.
 */
export async function pruneRefreshTokens(ds: DataSource, opts: { graceMs?: number; batchSize?: number } = {}): Promise<number> {
  const cutoff = new Date(Date.now() - (opts.graceMs ?? REFRESH_TOKEN_PRUNE_GRACE_MS));
  const batchSize = opts.batchSize ?? PRUNE_BATCH_SIZE;
  let deleted = 0;
  for (;;) {
    // A DELETE answers [rows, affected count] through TypeORM.
    const [, count]: [unknown[], number] = await ds.query(
      `DELETE FROM refresh_tokens WHERE jti IN (
         SELECT jti FROM refresh_tokens WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [cutoff, batchSize],
    );
    deleted += count;
    if (count < batchSize) return deleted;
  }
}
