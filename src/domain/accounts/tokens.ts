import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { config } from '../../config.ts';
import { unauthorized } from '../errors.ts';

/**
 * Three kinds of JWT, all HS256 with JWT_SECRET, told apart by the `typ` claim so one
 * can never stand in for another: user access tokens, user refresh tokens (tracked in
 * refresh_tokens for rotation), and the crash store's short-lived machine tokens (upload only).
 */
export type TokenType = 'access' | 'refresh' | 'machine';

const ALG = 'HS256';
const ISSUER = 'faultline';
const key = new TextEncoder().encode(config.jwt.secret);

function sign(claims: JWTPayload, subject: string, ttlSeconds: number, jti: string = randomUUID()): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(ISSUER)
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key);
}

/** Only HS256 is accepted: `alg: none`, other algorithms, tampered or expired tokens are 401. */
async function verify(token: string, type: TokenType, opts: { allowExpired?: boolean } = {}): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALG],
      issuer: ISSUER,
      // Logout of an expired session is still a logout.
      currentDate: opts.allowExpired ? new Date(0) : undefined,
    });
    if (payload.typ !== type || !payload.jti || !payload.exp) throw new Error('wrong token type');
    return payload;
  } catch (err) {
    const expired = err instanceof errors.JWTExpired;
    throw unauthorized(expired ? 'Token has expired' : 'Token is invalid', expired ? 'token_expired' : 'token_invalid');
  }
}

export interface UserClaims {
  userId: number;
  /** The user's token_version when the token was issued (0 for tokens from before versions existed). */
  version: number;
  jti: string;
  exp: number;
}

function userClaims(p: JWTPayload): UserClaims {
  const userId = Number(p.sub);
  const version = p.tv ?? 0;
  if (!Number.isSafeInteger(userId) || !Number.isSafeInteger(version)) throw unauthorized('Token is invalid', 'token_invalid');
  return { userId, version: version as number, jti: p.jti!, exp: p.exp! };
}

/** A user's tokens say which token_version they belong to (`tv`): bumping it ends them all. */
export interface TokenSubject {
  id: number;
  tokenVersion: number;
}

export const signAccessToken = (u: TokenSubject) => sign({ typ: 'access', tv: u.tokenVersion }, String(u.id), config.jwt.accessTtlSeconds);
export const signRefreshToken = (u: TokenSubject, jti: string) =>
  sign({ typ: 'refresh', tv: u.tokenVersion }, String(u.id), config.jwt.refreshTtlSeconds, jti);

export const verifyAccessToken = async (token: string) => userClaims(await verify(token, 'access'));
export const verifyRefreshToken = async (token: string, opts?: { allowExpired?: boolean }) =>
  userClaims(await verify(token, 'refresh', opts));

export interface MachineClaims {
  projectId: number;
  /** The API key it was traded for; null for the global MACHINE_CLIENT_SECRET. */
  keyId: number | null;
}

export const signMachineToken = (m: MachineClaims) =>
  sign({ typ: 'machine', pid: m.projectId, kid: m.keyId }, `project:${m.projectId}`, config.jwt.machineTtlSeconds);

export async function verifyMachineToken(token: string): Promise<MachineClaims> {
  const p = await verify(token, 'machine');
  const projectId = Number(p.pid);
  if (!Number.isSafeInteger(projectId)) throw unauthorized('Token is invalid', 'token_invalid');
  return { projectId, keyId: typeof p.kid === 'number' ? p.kid : null };
}

/** The `typ` of a token that verifies, without trusting anything else in it; null when it does not verify. */
export async function tokenType(token: string): Promise<TokenType | null> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: [ALG], issuer: ISSUER });
    return (payload.typ as TokenType) ?? null;
  } catch {
    return null;
  }
}
