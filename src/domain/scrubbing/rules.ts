/**
 * What a scrubbing rule is (src/domain/scrubbing): the defaults every project gets, and
 * the shape of a project's own rules (table `scrubbing_rules`, managed in service.ts).
 */
import { z } from 'zod';

export const RULE_KINDS = ['email', 'ip', 'phone', 'regex', 'key', 'exempt'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const RULE_ACTIONS = ['mask', 'hash', 'remove'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

/** A project's rule as the worker applies it. `pattern`: a regex (kind regex) or a key name / path glob (key, exempt). */
export interface ProjectRule {
  id: number;
  kind: RuleKind;
  pattern: string | null;
  action: RuleAction | null;
}

/** What was scrubbed, kept on the stored row (`scrubbed` jsonb): the field's path and the rule. */
export const MarkSchema = z.object({ path: z.string().max(500), rule: z.string().max(100) });
export type Mark = z.infer<typeof MarkSchema>;

/** The names of the default rules, as marks show them. */
export const DEFAULT_RULES = {
  secretKey: 'default:secret-key',
  keyValue: 'default:secret-key-value',
  card: 'default:credit-card',
  bearer: 'default:bearer-token',
  jwt: 'default:jwt',
  aws: 'default:aws-access-key',
  pem: 'default:private-key',
} as const;

/** What a masked whole value becomes (as Sentry writes it), and a masked part of a text. */
export const FILTERED = '[Filtered]';
export const MASK = '****';

/** `scrubbed` as the API shows it (OpenAPI): what was taken out before storage. */
export const ScrubbedOut = z.array(MarkSchema).meta({
  description:
    'What scrubbing took out before storage: each field path and the rule (default:… or <kind>#<rule id>); README "Data scrubbing"',
});
