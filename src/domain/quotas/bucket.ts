import type { RedisClient } from '../../queues/connection.ts';

/**
 * One atomic round trip to Redis for a quota decision: the project's token bucket, the
 * key's, and the project's spike window, all checked before any is charged — so a batch
 * refused by one is charged to none. Buckets refill continuously (`cap` tokens per
 * `period`); a request may take up to the whole bucket when it is full, so a batch bigger
 * than the limit still gets through once (the bucket goes into debt and refills from
 * below zero: the average rate holds).
 *
 * Spike window: a ring of 64 fields `minute % 64 → "minute:count"` of accepted items.
 * The baseline is the sum over the 60 minutes before the current one, / 60; the current
 * minute may hold max(floor, multiplier × baseline). Stale ring fields (their minute does
 * not match) count as zero. The hour's sum is computed once a minute (field `b`).
 *
 * KEYS: project bucket, key bucket, spike ring (one hash tag: same cluster slot).
 * ARGV: now, cost, mode (0 peek, 1 take, 2 force), project cap, key cap, period ms,
 *       spike on, multiplier, floor, record (count into the spike ring).
 * Returns {1} or {0, which (1 project, 2 key, 3 spike), wait ms}.
 */
const SCRIPT = `
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local mode = tonumber(ARGV[3])
local caps = { tonumber(ARGV[4]), tonumber(ARGV[5]) }
local period = tonumber(ARGV[6])
local spike = tonumber(ARGV[7])
local mult = tonumber(ARGV[8])
local floor = tonumber(ARGV[9])
local record = tonumber(ARGV[10])
local tokens = {}
local stamps = {}
for i = 1, 2 do
  local cap = caps[i]
  if cap > 0 then
    local b = redis.call('HMGET', KEYS[i], 't', 'ts')
    local t = tonumber(b[1])
    local ts = tonumber(b[2])
    if t == nil or ts == nil then t = cap; ts = now end
    if now > ts then t = math.min(cap, t + (now - ts) * cap / period); ts = now end
    tokens[i] = t
    stamps[i] = ts
    if mode ~= 2 then
      local need = math.min(math.max(cost, 1), cap)
      if t < need then return { 0, i, math.ceil((need - t) * period / cap) } end
    end
  end
end
local minute = math.floor(now / 60000)
local slot = tostring(minute % 64)
local count = 0
if spike == 1 or record == 1 then
  local cur = redis.call('HGET', KEYS[3], slot)
  if cur then
    local sep = string.find(cur, ':')
    if tonumber(string.sub(cur, 1, sep - 1)) == minute then count = tonumber(string.sub(cur, sep + 1)) end
  end
end
if spike == 1 and mode ~= 2 then
  -- The trailing hour's sum changes only when the minute does: computed once a minute, kept in field 'b'.
  local sum = nil
  local b = redis.call('HGET', KEYS[3], 'b')
  if b then
    local sep = string.find(b, ':')
    if tonumber(string.sub(b, 1, sep - 1)) == minute then sum = tonumber(string.sub(b, sep + 1)) end
  end
  if sum == nil then
    local fields = {}
    for m = minute - 60, minute - 1 do fields[#fields + 1] = tostring(m % 64) end
    local vals = redis.call('HMGET', KEYS[3], unpack(fields))
    sum = 0
    for j = 1, #vals do
      local v = vals[j]
      if v then
        local sep = string.find(v, ':')
        if tonumber(string.sub(v, 1, sep - 1)) == minute - 61 + j then sum = sum + tonumber(string.sub(v, sep + 1)) end
      end
    end
    redis.call('HSET', KEYS[3], 'b', minute .. ':' .. sum)
  end
  local allowed = math.max(floor, mult * sum / 60)
  local need = math.min(math.max(cost, 1), allowed)
  if count + need > allowed then return { 0, 3, (minute + 1) * 60000 - now } end
end
if mode == 0 then return { 1 } end
for i = 1, 2 do
  if caps[i] > 0 then
    redis.call('HSET', KEYS[i], 't', tostring(math.min(caps[i], tokens[i] - cost)), 'ts', tostring(stamps[i]))
    redis.call('PEXPIRE', KEYS[i], period * 2)
  end
end
if record == 1 then
  redis.call('HSET', KEYS[3], slot, minute .. ':' .. math.max(0, count + cost))
  redis.call('EXPIRE', KEYS[3], 7200)
end
return { 1 }
`;

export type Mode = 'peek' | 'take' | 'force';
const MODES: Record<Mode, number> = { peek: 0, take: 1, force: 2 };

export interface BucketCall {
  keys: [project: string, key: string, spike: string];
  now: number;
  cost: number;
  mode: Mode;
  projectCap: number;
  keyCap: number;
  periodMs: number;
  spike: { multiplier: number; floor: number } | null;
  record: boolean;
}

export type BucketAnswer = { ok: true } | { ok: false; which: 'project' | 'key' | 'spike'; waitMs: number };

type WithCommand = RedisClient & { faultlineQuota?(...args: (string | number)[]): Promise<number[]> };

export async function runBucket(redis: RedisClient, c: BucketCall): Promise<BucketAnswer> {
  const r = redis as WithCommand;
  if (!r.faultlineQuota) redis.defineCommand('faultlineQuota', { numberOfKeys: 3, lua: SCRIPT });
  const out = await r.faultlineQuota!(
    ...c.keys,
    c.now,
    c.cost,
    MODES[c.mode],
    c.projectCap,
    c.keyCap,
    c.periodMs,
    c.spike ? 1 : 0,
    c.spike?.multiplier ?? 0,
    c.spike?.floor ?? 0,
    c.record ? 1 : 0,
  );
  if (out[0] === 1) return { ok: true };
  return { ok: false, which: out[1] === 1 ? 'project' : out[1] === 2 ? 'key' : 'spike', waitMs: Number(out[2]) };
}
