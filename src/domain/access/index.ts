/**
 * Where tenancy is enforced and where an API key is checked: here. See access.ts for
 * the service, credentials.ts for every way a credential is presented, policy.ts for
 * what each role may do, scope.ts for the Scope every list query takes.
 */
export { Access, type Actor, type Caller } from './access.ts';
export {
  AUTH_TOKEN_PREFIX,
  authorizeTokenProject,
  createAuthToken,
  hashAuthToken,
  listAuthTokens,
  revokeAuthToken,
  serializeAuthToken,
  tokenProjects,
  type ResolvedAuthToken,
} from './authTokens.ts';
export { bearerToken, isJwt, parseDsn, presentedJwt, presentedKey, sentryKeyOf, type RequestLike } from './credentials.ts';
export { API_KEY_PATTERN, ApiKeyResolver, hashApiKey, secretsEqual, type ResolvedKey } from './keys.ts';
export { can, memberRolesAllowed, type ProjectAction, type ProjectRole } from './policy.ts';
export {
  coMembersCondition,
  isEmpty,
  mayFrom,
  NOTHING,
  roleFrom,
  scopeAllows,
  scopeClause,
  scopeCondition,
  scopeFrom,
  visibleProjectsSql,
  type LoadedRoles,
  type Scope,
} from './scope.ts';
