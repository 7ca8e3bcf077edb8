import { Router, type Request, type Response } from 'express';
import type { DataSource } from 'typeorm';
import { deleteUser, registerUser, serializeUserDetail, updateUser } from '../../../domain/accounts/users.ts';
import { conflict, notFound } from '../../../domain/errors.ts';
import { DEFAULT_PAGE_SIZE, likePattern } from '../../../domain/pagination.ts';
import { User } from '../../../entities/User.ts';
import type { Access } from '../../../domain/access/index.ts';
import { currentUser, requireStaff } from '../../middleware/auth.ts';
import { pageLinks } from '../../pagination.ts';
import { CreateUserBody, PatchUserBody, PutUserBody, UserIdParam, UserListQuery } from './schema.ts';

/** The crash store's /api/users/: user management for staff. */
export function userRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.use(requireStaff(access));
  const repo = ds.getRepository(User);

  r.get('/', async (req, res) => {
    const q = UserListQuery.parse(req.query);
    const page = { mode: 'page' as const, page: q.page ?? 1, pageSize: q.page_size ?? DEFAULT_PAGE_SIZE };
    const qb = repo.createQueryBuilder('u').orderBy('u.id', 'ASC');
    if (q.search) qb.where('u.email LIKE :s', { s: likePattern(q.search.toLowerCase()) });
    const [users, count] = await qb
      .skip((page.page - 1) * page.pageSize)
      .take(page.pageSize)
      .getManyAndCount();
    res.json({
      count,
      ...pageLinks(req, page, { hasMore: page.page * page.pageSize < count, nextCursor: null }),
      results: users.map(serializeUserDetail),
    });
  });

  r.post('/', async (req, res) => {
    const b = CreateUserBody.parse(req.body);
    const { user } = await registerUser(ds, {
      email: b.email,
      password: b.password,
      firstName: b.first_name,
      lastName: b.last_name,
      isActive: b.is_active,
      isStaff: b.is_staff,
    });
    res.status(201).json(serializeUserDetail(user));
  });

  r.get('/:id', async (req, res) => {
    const { id } = UserIdParam.parse(req.params);
    const user = await repo.findOneBy({ id });
    if (!user) throw notFound('User not found');
    res.json(serializeUserDetail(user));
  });

  const update = (full: boolean) => async (req: Request, res: Response) => {
    const { id } = UserIdParam.parse(req.params);
    const b = (full ? PutUserBody : PatchUserBody).parse(req.body);
    if (id === currentUser(req).id && (b.is_active === false || b.is_staff === false)) {
      throw conflict('You cannot deactivate or demote yourself', 'self_lockout');
    }
    const user = await updateUser(ds, id, {
      email: b.email,
      password: b.password,
      firstName: b.first_name,
      lastName: b.last_name,
      isActive: b.is_active,
      isStaff: b.is_staff,
    });
    res.json(serializeUserDetail(user));
  };
  r.put('/:id', update(true));
  r.patch('/:id', update(false));

  r.delete('/:id', async (req, res) => {
    const { id } = UserIdParam.parse(req.params);
    if (id === currentUser(req).id) throw conflict('You cannot delete yourself', 'self_lockout');
    await deleteUser(ds, id);
    res.status(204).end();
  });

  return r;
}
