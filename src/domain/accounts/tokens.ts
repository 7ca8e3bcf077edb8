import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { config } from '../../config.ts';
import { unauthorized } from '../errors.ts';

export type TokenType = 'access' | 'refresh';

const ALG = 'HS256';
const key = new TextEncoder().encode(config.jwt.secret);
const ISSUER = 'faultline';

export interface TokenClaims {
  userId: number;
  type: TokenType;
  jti: string;
  exp: number;
}

export async function signToken(userId: number, type: TokenType): Promise<string> {
  const ttl = type === 'access' ? config.jwt.accessTtlSeconds : config.jwt.refreshTtlSeconds;
  return new SignJWT({ typ: type })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(String(userId))
    .setIssuer(ISSUER)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .sign(key);
}

/** Only HS256 is accepted: `alg: none`, other algorithms, tampered or expired tokens are 401. */
export async function verifyToken(token: string, type: TokenType): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: [ALG], issuer: ISSUER });
    const userId = Number(payload.sub);
    if (payload.typ !== type || !Number.isInteger(userId) || !payload.jti || !payload.exp) throw new Error('wrong token type');
    return { userId, type, jti: payload.jti, exp: payload.exp };
  } catch (err) {
    const expired = err instanceof errors.JWTExpired;
    throw unauthorized(expired ? 'Token has expired' : 'Token is invalid', expired ? 'token_expired' : 'token_invalid');
  }
}

export async function issueTokenPair(userId: number) {
  const [access, refresh] = await Promise.all([signToken(userId, 'access'), signToken(userId, 'refresh')]);
  return { access, refresh };
}
