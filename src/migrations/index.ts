import { Initial1763900000000 } from './1763900000000-Initial.ts';
import { RefreshTokens1763950000000 } from './1763950000000-RefreshTokens.ts';

/** Listed explicitly (not globbed) so the same list works from TypeScript and from dist/. */
export const migrations = [Initial1763900000000, RefreshTokens1763950000000];
