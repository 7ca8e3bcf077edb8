import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { acceptInvitation, declineInvitation, invitationsFor } from '../../../domain/projects/invitations.ts';
import type { Access } from '../../../domain/access/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { InvitationIdParam } from './schema.ts';

/** The invitee's side of project invitations, mounted at /api/invitations. */
export function invitationRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.use(requireUser(access));

  r.get('/', async (req, res) => {
    const results = await invitationsFor(ds, currentUser(req));
    res.json({ count: results.length, next: null, previous: null, results });
  });

  r.post('/:id/accept', async (req, res) => {
    const { id } = InvitationIdParam.parse(req.params);
    res.json(await acceptInvitation(ds, currentUser(req), id));
  });

  r.post('/:id/decline', async (req, res) => {
    const { id } = InvitationIdParam.parse(req.params);
    res.json(await declineInvitation(ds, currentUser(req), id));
  });

  return r;
}
