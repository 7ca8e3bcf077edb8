import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { QueueName } from '../queues/contract.ts';
import { LOGIN_PATH } from './session.ts';

export const QUEUES_PATH = '/admin/queues';

/**
 * The queue monitor (bull-board): depths, job data, failed jobs with their error and
 * stack, retry and remove. Staff only, behind the admin session (mounted after it).
 */
export function queueBoard(queues: Record<QueueName, Queue>): RequestHandler {
  const server = new ExpressAdapter();
  server.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: Object.values(queues).map((q) => new BullMQAdapter(q)),
    serverAdapter: server,
    options: { uiConfig: { boardTitle: 'Faultline queues', boardLogo: { path: '/admin/faultline-logo.svg', width: 110, height: 24 } } },
  });
  const board = server.getRouter() as RequestHandler;
  return (req: Request, res: Response, next: NextFunction) => {
    const admin = req.session?.adminUser;
    if (!admin) return res.redirect(LOGIN_PATH);
    if (!admin.isStaff) return res.status(403).type('text').send('The queue monitor is for staff.');
    board(req, res, next);
  };
}
