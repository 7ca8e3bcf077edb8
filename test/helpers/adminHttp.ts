import supertest from 'supertest';
import type { Web } from '../../src/api/index.ts';
import { listen } from './stack.ts';
import { PASSWORD } from './factories.ts';

export type Agent = ReturnType<typeof supertest.agent>;

/** A browser-like client of /admin: keeps the session cookie and sends this site's Origin on POSTs. */
export async function adminAgent(web: Web): Promise<{ agent: Agent; base: string }> {
  const base = await listen(web);
  return { agent: supertest.agent(base), base };
}

/** Signs in through the AdminJS login form; answers the agent, now with a session. */
export async function adminLogin(web: Web, email: string, password = PASSWORD): Promise<{ agent: Agent; base: string }> {
  const { agent, base } = await adminAgent(web);
  const res = await agent.post('/admin/login').set('Origin', base).type('form').send({ email, password });
  if (res.status !== 302 || res.headers.location !== '/admin') throw new Error(`login failed: ${res.status} ${res.text.slice(0, 300)}`);
  return { agent, base };
}

/** AdminJS answers JSON for its API routes; a refused action is a 200 with an error notice and no record data. */
export const api = (agent: Agent, path: string) => agent.get(`/admin/api${path}`).set('Accept', 'application/json');
