import { z } from 'zod';
import { bearerAuth, errorResponses, jsonResponse, registry } from '../../openapi.ts';
import { InvitationOut, MemberOut } from '../projects/schema.ts';

export const InvitationIdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});

const AcceptedOut = InvitationOut.extend({ member: MemberOut }).meta({ id: 'AcceptedInvitation' });

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/invitations/',
  tags: ['invitations'],
  summary: 'Your pending invitations (sent to your email, not expired)',
  security,
  responses: {
    200: jsonResponse(z.object({ count: z.number(), next: z.null(), previous: z.null(), results: z.array(InvitationOut) }), 'Invitations'),
    ...errorResponses(401),
  },
});
registry.registerPath({
  method: 'post',
  path: '/api/invitations/{id}/accept/',
  tags: ['invitations'],
  summary: 'Accept an invitation: you become a member with its role',
  description: "Only the invitee (the user with the invitation's email) may accept; anyone else gets 404. An expired invitation is a 409.",
  security,
  request: { params: InvitationIdParam },
  responses: { 200: jsonResponse(AcceptedOut, 'Accepted: the invitation and your membership'), ...errorResponses(401, 404, 409) },
});
registry.registerPath({
  method: 'post',
  path: '/api/invitations/{id}/decline/',
  tags: ['invitations'],
  summary: 'Decline an invitation',
  description: 'Only the invitee may decline; anyone else gets 404.',
  security,
  request: { params: InvitationIdParam },
  responses: { 200: jsonResponse(InvitationOut, 'Declined'), ...errorResponses(401, 404) },
});
