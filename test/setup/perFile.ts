import { randomBytes } from 'node:crypto';

// Test files run in parallel against one Redis: each gets its own BullMQ prefix, so a
// worker started by one file never takes another file's jobs.
process.env.QUEUE_PREFIX = `test-${randomBytes(4).toString('hex')}`;

// Short enough that "Redis hangs" tests answer quickly, long enough for a loaded CI box.
process.env.INGEST_ENQUEUE_TIMEOUT_MS ??= '2000';
