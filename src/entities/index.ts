import { ApiKey } from './ApiKey.ts';
import { CrashDump } from './CrashDump.ts';
import { Event } from './Event.ts';
import { Issue } from './Issue.ts';
import { LlmLog } from './LlmLog.ts';
import { LlmPrice } from './LlmPrice.ts';
import { Project } from './Project.ts';
import { ProjectInvitation } from './ProjectInvitation.ts';
import { ProjectMember } from './ProjectMember.ts';
import { RefreshToken } from './RefreshToken.ts';
import { Span } from './Span.ts';
import { User } from './User.ts';
import { UserFilterPreference } from './UserFilterPreference.ts';

export { ApiKey, CrashDump, Event, Issue, LlmLog, LlmPrice, UserFilterPreference, Project, ProjectInvitation, ProjectMember, RefreshToken, Span, User };
export const entities = [User, Project, ProjectMember, ApiKey, Event, RefreshToken, LlmLog, UserFilterPreference, Issue, CrashDump, ProjectInvitation, Span, LlmPrice];
