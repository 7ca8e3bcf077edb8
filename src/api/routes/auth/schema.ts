import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';

export const RegisterBody = z
  .object({
    email: z.email().max(254),
    password: z.string().min(8, 'must be at least 8 characters').max(256),
    first_name: z.string().max(150).optional(),
    last_name: z.string().max(150).optional(),
  })
  .meta({ id: 'RegisterRequest', example: { email: 'user@example.com', password: 'SecurePass123!' } });

export const LoginBody = z
  .object({ email: z.string().min(1).max(254), password: z.string().min(1).max(256) })
  .meta({ id: 'LoginRequest', example: { email: 'user@example.com', password: 'your_password' } });

export const RefreshBody = z.object({ refresh: z.string().min(1) }).meta({ id: 'RefreshRequest' });

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
  .object({ access: z.string(), refresh: z.string(), user: UserOut })
  .meta({ id: 'LoginResponse' });

for (const prefix of ['/api/auth', '/auth']) {
  const seed5 = prefix === '/auth' ? ' (seed 5 path)' : '';
  registry.registerPath({
    method: 'post',
    path: `${prefix}/register/`,
    tags: ['auth'],
    summary: `Register a user; creates their personal project${seed5}`,
    request: { body: jsonBody(RegisterBody) },
    responses: { 201: jsonResponse(RegisterOut, 'Created'), ...errorResponses(400, 409) },
  });
  registry.registerPath({
    method: 'post',
    path: `${prefix}/login/`,
    tags: ['auth'],
    summary: `Log in with email and password${seed5}`,
    request: { body: jsonBody(LoginBody) },
    responses: { 200: jsonResponse(LoginOut, 'JWT pair and user'), ...errorResponses(400, 401) },
  });
}
registry.registerPath({
  method: 'post',
  path: '/api/auth/refresh/',
  tags: ['auth'],
  summary: 'Exchange a refresh token for a new access token',
  request: { body: jsonBody(RefreshBody) },
  responses: { 200: jsonResponse(z.object({ access: z.string() }), 'New access token'), ...errorResponses(400, 401) },
});
registry.registerPath({
  method: 'get',
  path: '/api/auth/user/',
  tags: ['auth'],
  summary: 'The authenticated user',
  security: [{ [bearerAuth.name]: [] }],
  responses: { 200: jsonResponse(UserOut, 'User'), ...errorResponses(401) },
});
