/** Scrubbing of crash dumps: the uploader's label loses its secrets once the dumps worker has processed the dump. */
import './helpers/dumpsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dumpBytes } from './helpers/dumps.ts';
import { createUser } from './helpers/factories.ts';
import { eventually, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
});

describe('crash dumps', () => {
  it('a label with a key in it is stored scrubbed, with its mark, in the database and the API', async () => {
    const u = await createUser(stack.web.ds);
    const up = await stack.http
      .post('/api/dumps/')
      .set('Authorization', `Bearer ${u.access}`)
      .field('label', 'nightly build api_key=ak_dump_secret_99')
      .attach('file', dumpBytes(4096), 'app.dmp');
    expect(up.status).toBeLessThan(300);
    const [row] = await eventually(async () => {
      const rows = await stack.web.ds.query(
        `SELECT id, label, info, scrubbed FROM crash_dumps WHERE project_id = $1 AND scrubbed IS NOT NULL`,
        [u.personal.id],
      );
      return rows.length ? rows : null;
    });
    expect(row.label).toBe('nightly build api_key=[Filtered]');
    expect(JSON.stringify(row)).not.toContain('ak_dump_secret_99');
    expect(row.scrubbed).toEqual([{ path: 'label', rule: 'default:secret-key-value' }]);
    const api = await stack.http.get(`/api/dumps/${row.id}/`).set('Authorization', `Bearer ${u.access}`);
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ label: 'nightly build api_key=[Filtered]', scrubbed: row.scrubbed });
  });
});
