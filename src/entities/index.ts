import { ApiKey } from './ApiKey.ts';
import { Event } from './Event.ts';
import { Project } from './Project.ts';
import { ProjectMember } from './ProjectMember.ts';
import { RefreshToken } from './RefreshToken.ts';
import { User } from './User.ts';

export { ApiKey, Event, Project, ProjectMember, RefreshToken, User };
export const entities = [User, Project, ProjectMember, ApiKey, Event, RefreshToken];
