import { randomBytes } from 'node:crypto';

// Test files run in parallel against one Redis: each gets its own BullMQ prefix, so a
// worker started by one file never takes another file's jobs.
process.env.QUEUE_PREFIX = `test-${randomBytes(4).toString('hex')}`;

// Short enough that "Redis hangs" tests answer quickly, long enough for a loaded CI box.
process.env.INGEST_ENQUEUE_TIMEOUT_MS ??= '2000';

// Many registrations and logins come from 127.0.0.1 in a run; the limits have their own test.
process.env.AUTH_RATE_LIMIT_PER_IP ??= '100000';

// Cheap password hashing in tests (production keeps argon2id's 64 MiB, t=3).
process.env.ARGON2_MEMORY_KIB ??= '1024';
process.env.ARGON2_TIME_COST ??= '1';
