import { AlertChannel } from './AlertChannel.ts';
import { AlertDelivery } from './AlertDelivery.ts';
import { AlertFiring } from './AlertFiring.ts';
import { AlertNotification } from './AlertNotification.ts';
import { AlertRule } from './AlertRule.ts';
import { ApiKey } from './ApiKey.ts';
import { AuthToken } from './AuthToken.ts';
import { CrashDump } from './CrashDump.ts';
import { Event } from './Event.ts';
import { Issue } from './Issue.ts';
import { IssueActivity } from './IssueActivity.ts';
import { LlmLog } from './LlmLog.ts';
import { Monitor } from './Monitor.ts';
import { MonitorCheckIn } from './MonitorCheckIn.ts';
import { LlmPrice } from './LlmPrice.ts';
import { Project } from './Project.ts';
import { ProjectInvitation } from './ProjectInvitation.ts';
import { ProjectMember } from './ProjectMember.ts';
import { RefreshToken } from './RefreshToken.ts';
import { Release } from './Release.ts';
import { ScrubbingRule } from './ScrubbingRule.ts';
import { Span } from './Span.ts';
import { User } from './User.ts';
import { UserFilterPreference } from './UserFilterPreference.ts';

export {
  AlertChannel, AlertDelivery, AlertFiring, AlertNotification, AlertRule, ApiKey, AuthToken, Monitor, MonitorCheckIn, CrashDump, Event, Issue, IssueActivity,
  LlmLog, LlmPrice, UserFilterPreference, Project, ProjectInvitation, ProjectMember, RefreshToken, Release, ScrubbingRule, Span, User,
};
export const entities = [
  User, Project, ProjectMember, ApiKey, Event, RefreshToken, LlmLog, UserFilterPreference, Issue, CrashDump, ProjectInvitation, AlertChannel, AlertRule,
  AlertFiring, AlertNotification, AlertDelivery, Monitor, MonitorCheckIn, Span, LlmPrice, Release, IssueActivity, AuthToken, ScrubbingRule,
];
