import {
  BaseRecord,
  ValidationError,
  type ActionContext,
  type ActionRequest,
  type ActionResponse,
  type Filter,
  type ParamsType,
  type ResourceWithOptions,
} from 'adminjs';
import type { DataSource } from 'typeorm';
import { deleteUser, registerUser, updateUser, type UserChanges } from '../../domain/accounts/users.ts';
import { User } from '../../entities/User.ts';
import { coMembersCondition, type Access } from '../../domain/access/index.ts';
import { ScopedResource, type Condition } from '../resource.ts';
import { loadAdminUser, type AdminUser } from '../session.ts';
import { actorOf, domainCall, hidden, NAV, readOnly, staffOnly } from './common.ts';

/**
 * Staff manage users here. Others never open this resource; they only see the users they
 * share a project with (the access module's co-member rule), where another record refers
 * to them (a member, an owner).
 */
const userScope = (admin: AdminUser | undefined): Condition => coMembersCondition(admin, 'r.id');

const bool = (v: unknown) => (v === undefined ? undefined : v === true || v === 'true');
const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));

/** An empty password field means "unchanged"; the policy itself is the domain's (hashPassword). */
function password(params: Record<string, unknown>, required: boolean): string | undefined {
  const value = str(params.password)?.length ? str(params.password) : undefined;
  if (required && value === undefined) throw new ValidationError({ password: { message: 'required' } });
  return value;
}

/** What a co-member sees of another user (a project's owner, a member in a picker): who they are, nothing about their account. */
const CO_MEMBER_FIELDS = ['id', 'email', 'firstName', 'lastName'] as const;

/** Passwords go through the accounts service, which hashes them (argon2id); the hash is never loaded or shown. */
class UserResource extends ScopedResource {
  constructor(
    private readonly ds: DataSource,
    private readonly access: Access,
  ) {
    super(User, { scope: userScope, exact: [] });
  }

  /**
   * Non-staff reach users only as references (an owner, a member) and in the new-owner
   * picker; staff status, last login and the like are not theirs to see, so those
   * records carry nothing else — whichever read path AdminJS takes.
   */
  private forViewer(records: BaseRecord[], context?: ActionContext): BaseRecord[] {
    const admin = context?.currentAdmin as AdminUser | undefined;
    if (admin?.isStaff) return records;
    return records.map((r) => new BaseRecord(Object.fromEntries(CO_MEMBER_FIELDS.map((k) => [k, r.param(k)])), this));
  }

  override async find(filter: Filter, params: Parameters<ScopedResource['find']>[1], context?: ActionContext): Promise<BaseRecord[]> {
    return this.forViewer(await super.find(filter, params, context), context);
  }

  override async findOne(id: string, context?: ActionContext): Promise<BaseRecord | null> {
    const record = await super.findOne(id, context);
    return record ? this.forViewer([record], context)[0] : null;
  }

  override async findMany(ids: Array<string | number>, context?: ActionContext): Promise<BaseRecord[]> {
    return this.forViewer(await super.findMany(ids, context), context);
  }

  override async create(params: Record<string, unknown>): Promise<ParamsType> {
    const { user } = await domainCall(
      () =>
        registerUser(this.ds, {
          email: str(params.email) ?? '',
          password: password(params, true)!,
          firstName: str(params.firstName),
          lastName: str(params.lastName),
          isStaff: bool(params.isStaff),
          isActive: bool(params.isActive),
        }),
      'email',
    );
    return user as unknown as ParamsType;
  }

  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const me = actorOf(context);
    const changes: UserChanges = {
      email: str(params.email),
      firstName: str(params.firstName),
      lastName: str(params.lastName),
      isActive: bool(params.isActive),
      isStaff: bool(params.isStaff),
      password: password(params, false),
    };
    if (Number(id) === me.id && (changes.isActive === false || changes.isStaff === false)) {
      throw new ValidationError({ isStaff: { message: 'Ask another staff member to demote or deactivate you' } });
    }
    return (await domainCall(() => updateUser(this.ds, Number(id), changes), 'email')) as unknown as ParamsType;
  }

  override async delete(id: string, context?: ActionContext): Promise<void> {
    if (Number(id) === actorOf(context).id) throw new ValidationError({}, { message: 'You cannot delete yourself' });
    await domainCall(() => deleteUser(this.ds, Number(id)));
  }
}

export function usersResource(ds: DataSource, access: Access): ResourceWithOptions {
  return {
    resource: new UserResource(ds, access),
    options: {
      navigation: NAV.accounts,
      sort: { sortBy: 'createdAt', direction: 'desc' },
      listProperties: ['id', 'email', 'firstName', 'lastName', 'isStaff', 'isActive', 'lastLogin', 'createdAt'],
      filterProperties: ['email', 'isStaff', 'isActive', 'createdAt'],
      editProperties: ['email', 'password', 'firstName', 'lastName', 'isActive', 'isStaff'],
      showProperties: ['id', 'email', 'firstName', 'lastName', 'isActive', 'isStaff', 'lastLogin', 'createdAt', 'updatedAt'],
      properties: {
        email: { isTitle: true, isRequired: true },
        passwordHash: hidden,
        tokenVersion: hidden,
        password: {
          type: 'password',
          isVisible: { list: false, filter: false, show: false, edit: true },
          description:
            'New password (at least 8 characters). Leave empty to keep the current one. It is hashed with argon2id; the hash is never shown.',
        },
        lastLogin: readOnly,
      },
      actions: {
        list: { isAccessible: staffOnly },
        show: { isAccessible: staffOnly },
        // Reference pickers (a project's new owner): scoped to the users one shares a project with.
        search: { isAccessible: true },
        new: { isAccessible: staffOnly },
        edit: {
          isAccessible: staffOnly,
          // Changing your own password keeps this session (other sessions end).
          after: async (response: ActionResponse, request: ActionRequest, context: ActionContext) => {
            const me = actorOf(context);
            const session = (request as unknown as { session?: { tokenVersion?: number } }).session;
            if (request.method === 'post' && Number(request.params.recordId) === me.id && session) {
              session.tokenVersion = (await loadAdminUser(access, me.id))?.tokenVersion;
            }
            return response;
          },
        },
        delete: { isAccessible: staffOnly },
        bulkDelete: { isAccessible: false },
      },
    },
  };
}
