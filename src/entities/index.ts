import { ApiKey } from './ApiKey.ts';
import { AuthToken } from './AuthToken.ts';
import { CrashDump } from './CrashDump.ts';
import { Event } from './Event.ts';
import { Issue } from './Issue.ts';
import { IssueActivity } from './IssueActivity.ts';
import { LlmLog } from './LlmLog.ts';
import { Project } from './Project.ts';
import { ProjectMember } from './ProjectMember.ts';
import { RefreshToken } from './RefreshToken.ts';
import { Release } from './Release.ts';
import { User } from './User.ts';
import { UserFilterPreference } from './UserFilterPreference.ts';

export { ApiKey, AuthToken, CrashDump, Event, Issue, IssueActivity, LlmLog, Release, UserFilterPreference, Project, ProjectMember, RefreshToken, User };
export const entities = [User, Project, ProjectMember, ApiKey, Event, RefreshToken, LlmLog, UserFilterPreference, Issue, CrashDump, Release, IssueActivity, AuthToken];
