import { AlertChannel } from './AlertChannel.ts';
import { AlertDelivery } from './AlertDelivery.ts';
import { AlertFiring } from './AlertFiring.ts';
import { AlertNotification } from './AlertNotification.ts';
import { AlertRule } from './AlertRule.ts';
import { ApiKey } from './ApiKey.ts';
import { AuditEntry } from './AuditEntry.ts';
import { AuthToken } from './AuthToken.ts';
import { CrashDump } from './CrashDump.ts';
import { Event } from './Event.ts';
import { Issue } from './Issue.ts';
import { IssueActivity } from './IssueActivity.ts';
import { LlmLog } from './LlmLog.ts';
import { InboundFilter } from './InboundFilter.ts';
import { Monitor } from './Monitor.ts';
import { Outcome } from './Outcome.ts';
import { MonitorCheckIn } from './MonitorCheckIn.ts';
import { LlmPrice } from './LlmPrice.ts';
import { Project } from './Project.ts';
import { QuotaOverride } from './QuotaOverride.ts';
import { ProjectInvitation } from './ProjectInvitation.ts';
import { ProjectMember } from './ProjectMember.ts';
import { RefreshToken } from './RefreshToken.ts';
import { Release } from './Release.ts';
import { ScrubbingRule } from './ScrubbingRule.ts';
import { Span } from './Span.ts';
import { User } from './User.ts';
import { UserFilterPreference } from './UserFilterPreference.ts';

export {
  AlertChannel,
  AlertDelivery,
  AlertFiring,
  AlertNotification,
  AlertRule,
  ApiKey,
  AuditEntry,
  AuthToken,
  CrashDump,
  Event,
  InboundFilter,
  Issue,
  IssueActivity,
  LlmLog,
  LlmPrice,
  Monitor,
  MonitorCheckIn,
  Outcome,
  Project,
  ProjectInvitation,
  ProjectMember,
  QuotaOverride,
  RefreshToken,
  Release,
  ScrubbingRule,
  Span,
  User,
  UserFilterPreference,
};

/** Every entity, for the DataSource; one per line, so branches adding one do not collide. */
export const entities = [
  AlertChannel,
  AlertDelivery,
  AlertFiring,
  AlertNotification,
  AlertRule,
  ApiKey,
  AuditEntry,
  AuthToken,
  CrashDump,
  Event,
  Issue,
  IssueActivity,
  LlmLog,
  InboundFilter,
  Monitor,
  Outcome,
  MonitorCheckIn,
  LlmPrice,
  Project,
  QuotaOverride,
  ProjectInvitation,
  ProjectMember,
  RefreshToken,
  Release,
  ScrubbingRule,
  Span,
  User,
  UserFilterPreference,
];
