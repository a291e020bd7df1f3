// The limiter's Redis scripts (BullMQ style: a header with KEYS, ARGV and the reply), kept
// in TypeScript so the build ships them; each runs by EVALSHA, loaded by EVAL on NOSCRIPT.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface LuaScript {
  name: string;
  source: string;
  sha: string;
}

function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * acquire: takes one call slot when the circuit, the holds and every window allow it,
 * all in Redis time (TIME), so processes on different machines agree.
 *   KEYS[1] circuit: exists while the provider's circuit is open
 *   KEYS[2] half-open marker: exists from an opening until a success closes the circuit
 *   KEYS[3] probe: the one trial call a half-open circuit lets through
 *   KEYS[4] provider hold, KEYS[5] endpoint hold: no call starts while they exist (PTTL)
 *   KEYS[6..] sorted sets of call start times (score: µs), one per limited window
 *   ARGV[1] a member suffix unique to this call; ARGV[2] margin, ms, added to every window;
 *   ARGV[3] probe lifetime, ms (a caller refused by a busy probe waits at most 5 s of it);
 *   ARGV[2 + 2i], ARGV[3 + 2i] window length (ms) and limit of KEYS[5 + i], i = 1..#KEYS - 5
 * Logic: circuit open or probe busy -> refuse; then trim each window to (now - length -
 * margin, now], and where it holds `limit` calls already, the call that must leave first
 * frees a slot at its start + length + margin; refuse with the latest such time (or a
 * hold's end, if later); else add the call to every window (PEXPIRE length + margin).
 * Reply: {1, probe} granted (the call is added to every window; probe 1 when it is a
 * half-open circuit's trial call); {0, wait ms, reason} refused, reason 'circuit_open' or
 * 'rate_limit', nothing added anywhere.
 */
export const ACQUIRE = script(
  'acquire',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local open = redis.call('PTTL', KEYS[1])
if open == -1 then open = 60000 end
if open > 0 then return {0, open, 'circuit_open'} end
local halfOpen = redis.call('EXISTS', KEYS[2]) == 1
if halfOpen then
  local busy = redis.call('PTTL', KEYS[3])
  if busy == -1 then busy = 60000 end
  if busy > 0 then return {0, math.min(busy, 5000), 'circuit_open'} end
end
local wait = 0
for i = 4, 5 do
  local held = redis.call('PTTL', KEYS[i]) * 1000
  if held > wait then wait = held end
end
local margin = tonumber(ARGV[2]) * 1000
local n = #KEYS - 5
for i = 1, n do
  local key = KEYS[5 + i]
  local span = tonumber(ARGV[2 + 2 * i]) * 1000 + margin
  local limit = tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local leaving = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local free = tonumber(leaving[2]) + span - now
    if free > wait then wait = free end
  end
end
if wait > 0 then return {0, math.ceil(wait / 1000), 'rate_limit'} end
local probe = 0
if halfOpen then
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[3])
  probe = 1
end
local member = t[1] .. '.' .. t[2] .. '-' .. ARGV[1]
for i = 1, n do
  local key = KEYS[5 + i]
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]) + tonumber(ARGV[2]))
end
return {1, probe}
`,
);

/**
 * acquire-many: acquire for ARGV[4] calls at once (one round trip for the calls a process
 * starts together): as many as every window has room for are granted, the others refused.
 *   KEYS as acquire. ARGV[1] a member prefix unique to this script call; ARGV[2] margin, ms;
 *   ARGV[3] probe lifetime, ms; ARGV[4] calls asked; ARGV[3 + 2i], ARGV[4 + 2i] window length
 *   (ms) and limit of KEYS[5 + i].
 * Logic: as acquire; a half-open circuit grants its one trial call at most. Granted calls
 * are added to every window; for the refused ones, the wait is when the next slot frees
 * (the entry that must leave first, after the granted ones were added), or a hold's end.
 * Reply: {granted, probe, wait ms, reason}: the first `granted` calls may go (probe 1 when
 * one of them is a half-open circuit's trial call); the others wait `wait ms`, refused for
 * `reason` ('circuit_open' or 'rate_limit'; '' when all were granted).
 */
export const ACQUIRE_MANY = script(
  'acquire-many',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local open = redis.call('PTTL', KEYS[1])
if open == -1 then open = 60000 end
if open > 0 then return {0, 0, open, 'circuit_open'} end
local asked = tonumber(ARGV[4])
local halfOpen = redis.call('EXISTS', KEYS[2]) == 1
if halfOpen then
  local busy = redis.call('PTTL', KEYS[3])
  if busy == -1 then busy = 60000 end
  if busy > 0 then return {0, 0, math.min(busy, 5000), 'circuit_open'} end
  asked = 1
end
local held = 0
for i = 4, 5 do
  local h = redis.call('PTTL', KEYS[i]) * 1000
  if h > held then held = h end
end
if held > 0 then return {0, 0, math.ceil(held / 1000), 'rate_limit'} end
local margin = tonumber(ARGV[2]) * 1000
local n = #KEYS - 5
local grant = asked
for i = 1, n do
  local key = KEYS[5 + i]
  local span = tonumber(ARGV[3 + 2 * i]) * 1000 + margin
  local limit = tonumber(ARGV[4 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local room = limit - redis.call('ZCARD', key)
  if room < grant then grant = math.max(room, 0) end
end
local probe = 0
if grant > 0 then
  if halfOpen then
    redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[3])
    probe = 1
  end
  local prefix = t[1] .. '.' .. t[2] .. '-' .. ARGV[1] .. ':'
  for i = 1, n do
    local key = KEYS[5 + i]
    local adds = {}
    for c = 1, grant do
      adds[#adds + 1] = now
      adds[#adds + 1] = prefix .. c
    end
    redis.call('ZADD', key, unpack(adds))
    redis.call('PEXPIRE', key, tonumber(ARGV[3 + 2 * i]) + tonumber(ARGV[2]))
  end
end
if grant >= tonumber(ARGV[4]) then return {grant, probe, 0, ''} end
if halfOpen and grant == 1 then
  -- the others meet a busy trial call, as acquire's callers after it would
  return {grant, probe, math.min(tonumber(ARGV[3]), 5000), 'circuit_open'}
end
local wait = 0
for i = 1, n do
  local key = KEYS[5 + i]
  local span = tonumber(ARGV[3 + 2 * i]) * 1000 + margin
  local limit = tonumber(ARGV[4 + 2 * i])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local leaving = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local free = tonumber(leaving[2]) + span - now
    if free > wait then wait = free end
  end
end
return {grant, probe, math.max(1, math.ceil(wait / 1000)), 'rate_limit'}
`,
);

/**
 * hold: no call starts for ARGV[1] ms from now, unless an existing hold lasts longer.
 *   KEYS[1] the hold; ARGV[1] ms. Reply: 1 when the hold was lengthened, else 0.
 */
export const HOLD = script(
  'hold',
  `
local left = redis.call('PTTL', KEYS[1])
if left ~= -1 and left < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
  return 1
end
return 0
`,
);

/**
 * open-circuit: opens the provider's circuit for ARGV[1] ms (or keeps a longer opening),
 * then half-open (one trial call at a time) for up to ARGV[2] ms more until a success.
 *   KEYS[1] circuit, KEYS[2] half-open marker, KEYS[3] probe. Reply: the circuit's ms left.
 */
export const OPEN_CIRCUIT = script(
  'open-circuit',
  `
local openMs = tonumber(ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left < openMs then
  redis.call('SET', KEYS[1], '1', 'PX', openMs)
  left = openMs
end
redis.call('SET', KEYS[2], '1', 'PX', left + tonumber(ARGV[2]))
redis.call('DEL', KEYS[3])
return left
`,
);

/**
 * settle-circuit: after a call's answer, unless the circuit is open: ARGV[1] 'close' (the
 * provider answered) ends a half-open state; 'release' (no verdict) frees the trial slot.
 *   KEYS[1] circuit, KEYS[2] half-open marker, KEYS[3] probe. Reply: -1 while the circuit
 * is open, else the number of keys deleted.
 */
export const SETTLE_CIRCUIT = script(
  'settle-circuit',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if ARGV[1] == 'close' then return redis.call('DEL', KEYS[2], KEYS[3]) end
if redis.call('EXISTS', KEYS[2]) == 1 then return redis.call('DEL', KEYS[3]) end
return 0
`,
);

/** Runs a script by its SHA, sending its source once when this Redis does not have it yet. */
export async function runScript(redis: Redis, s: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(s.source, keys.length, ...keys, ...args);
  }
}
