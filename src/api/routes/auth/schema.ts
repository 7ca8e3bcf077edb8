import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../../domain/accounts/passwords.ts';

export const RegisterBody = z
  .object({
    email: z.email().max(254),
    password: z.string().min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`).max(PASSWORD_MAX_LENGTH),
    first_name: z.string().max(150).optional(),
    last_name: z.string().max(150).optional(),
  })
  .meta({ id: 'RegisterRequest', example: { email: 'user@example.com', password: 'SecurePass123!' } });

/**
 * `email`, or `username` as django-rest-framework-jwt and SimpleJWT clients (the logs dashboard and central de erros)
 * post it — Faultline's usernames are email addresses.
 */
export const LoginBody = z
  .object({
    email: z.string().min(1).max(254).optional(),
    username: z.string().min(1).max(254).optional().meta({ description: 'Alias of `email`' }),
    password: z.string().min(1).max(256),
  })
  .refine((b) => b.email !== undefined || b.username !== undefined, { message: 'email is required', path: ['email'] })
  .transform(({ email, username, password }) => ({ email: (email ?? username)!, password }))
  .meta({ id: 'LoginRequest', example: { email: 'user@example.com', password: 'your_password' } });

export const RefreshBody = z.object({ refresh: z.string().min(1).max(4096) }).meta({ id: 'RefreshRequest' });
export const LogoutBody = RefreshBody;
export const ClientTokenBody = z
  .object({ client_secret: z.string().min(1).max(256) })
  .meta({ id: 'ClientTokenRequest', example: { client_secret: 'replace-with-machine-client-secret' } });

export const UserOut = z
  .object({ id: z.number().int(), email: z.string(), first_name: z.string(), last_name: z.string() })
  .meta({ id: 'User', example: { id: 1, email: 'user@example.com', first_name: 'John', last_name: 'Doe' } });

const RegisterOut = z
  .object({
    id: z.number().int(),
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    project: z.object({ id: z.number().int(), name: z.string(), slug: z.string(), api_key: z.string() }),
  })
  .meta({ id: 'RegisterResponse', description: 'The new user and their personal project; `project.api_key` is shown only here.' });

const LoginOut = z
  .object({
    access: z.string(),
    refresh: z.string(),
    token: z
      .string()
      .meta({ description: 'The same JWT as `access`, for django-rest-framework-jwt clients (central de erros), which read `token`' }),
    user: UserOut,
  })
  .meta({ id: 'LoginResponse' });
const TokenPair = z.object({ access: z.string(), refresh: z.string() }).meta({ id: 'TokenPair' });

for (const prefix of ['/api/auth', '/auth']) {
  const seed5 = prefix === '/auth' ? ' (central de erros path)' : '';
  registry.registerPath({
    method: 'post',
    path: `${prefix}/register/`,
    tags: ['auth'],
    summary: `Register a user; creates their personal project${seed5}`,
    request: { body: jsonBody(RegisterBody) },
    responses: { 201: jsonResponse(RegisterOut, 'Created'), ...errorResponses(400, 409, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: `${prefix}/login/`,
    tags: ['auth'],
    summary: `Log in with email and password${seed5}`,
    description:
      'Rate-limited per client IP, and failed passwords per account and client IP: 429 with Retry-After for that address only. ' +
      'An account is never locked for everyone: after many failures from all addresses, attempts on it are only slowed down.',
    request: { body: jsonBody(LoginBody) },
    responses: { 200: jsonResponse(LoginOut, 'JWT pair and user'), ...errorResponses(400, 401, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: `${prefix}/refresh/`,
    tags: ['auth'],
    summary: `Trade a refresh token for a new pair (rotation)${seed5}`,
    description:
      'The presented refresh token is spent. Presenting a spent token again revokes its whole session (reuse detection). ' +
      'A token issued before a password or email change or a deactivation is refused (401 token_revoked).',
    request: { body: jsonBody(RefreshBody) },
    responses: { 200: jsonResponse(TokenPair, 'New access and refresh tokens'), ...errorResponses(400, 401) },
  });
  registry.registerPath({
    method: 'post',
    path: `${prefix}/logout/`,
    tags: ['auth'],
    summary: `Revoke a refresh token (and the session it belongs to)${seed5}`,
    request: { body: jsonBody(LogoutBody) },
    responses: { 204: { description: 'Logged out' }, ...errorResponses(400, 401) },
  });
  registry.registerPath({
    method: 'get',
    path: `${prefix}/user/`,
    tags: ['auth'],
    summary: `The authenticated user${seed5}`,
    security: [{ [bearerAuth.name]: [] }],
    responses: { 200: jsonResponse(UserOut, 'User'), ...errorResponses(401, 403) },
  });
  registry.registerPath({
    method: 'post',
    path: `${prefix}/client-token/`,
    tags: ['auth'],
    summary: `Machine clients (the crash store): trade a client secret for a short-lived upload-only token${seed5}`,
    description:
      'The secret is an API key with the `dumps:upload` scope, or the server-wide MACHINE_CLIENT_SECRET. ' +
      "The token (default 5 minutes) can only upload dumps to that key's project.",
    request: { body: jsonBody(ClientTokenBody) },
    responses: { 200: jsonResponse(z.object({ access: z.string() }), 'Machine token'), ...errorResponses(400, 401, 403, 429) },
  });
}
