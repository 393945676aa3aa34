-- Enrol one participant in a group session, atomically: the seat check, the
-- enrolment or the waiting-list append, the roster entry, the event in the
-- host's outbox and the idempotency record are one step, so any number of
-- concurrent enrolments (and replicas) fill exactly `cap` seats and queue the
-- rest in the order they arrived.
-- KEYS: 1 the group's state hash (cap, st, seq, v, e:<ref>), 2 enrolled zset,
--       3 waiting zset, 4 the host's outbox stream, 5 the idempotency record.
-- ARGV: 1 participant ref, 2 enrolment id, 3 now (epoch ms), 4 fingerprint,
--       5 idempotency ttl (s), 6..8 the enrolled event (type, body, headers),
--       9..11 the waitlisted event (type, body, headers).
-- Returns {'replay', fp, response} | {'closed'} | {'already', letter}
--       | {'ok', response} with response "E|seq|id|ms|0" or "W|seq|id|ms|position".
local stored = redis.call('HMGET', KEYS[5], 'fp', 'response')
if stored[1] then return {'replay', stored[1], stored[2]} end

local state = redis.call('HMGET', KEYS[1], 'st', 'cap', 'seq', 'v')
if state[1] ~= 'A' then return {'closed'} end

local field = 'e:' .. ARGV[1]
local current = redis.call('HGET', KEYS[1], field)
if current then
  local letter = string.sub(current, 1, 1)
  if letter ~= 'X' then return {'already', letter} end
end

-- HGET and HSET, not HINCRBY: the services' ACL grants only the commands they use.
local seq = tonumber(state[3] or '0') + 1
redis.call('HSET', KEYS[1], 'seq', seq, 'v', tonumber(state[4] or '0') + 1)
local letter, position, event = 'E', 0, 6
if redis.call('ZCARD', KEYS[2]) < tonumber(state[2]) then
  redis.call('ZADD', KEYS[2], seq, ARGV[1])
else
  redis.call('ZADD', KEYS[3], seq, ARGV[1])
  letter, event = 'W', 9
  position = redis.call('ZCARD', KEYS[3])
end
local entry = letter .. '|' .. seq .. '|' .. ARGV[2] .. '|' .. ARGV[3]
redis.call('HSET', KEYS[1], field, entry)
redis.call('XADD', KEYS[4], '*', 'type', ARGV[event], 'body', ARGV[event + 1], 'headers', ARGV[event + 2])
local response = entry .. '|' .. position
redis.call('HSET', KEYS[5], 'fp', ARGV[4], 'response', response)
redis.call('EXPIRE', KEYS[5], ARGV[5])
return {'ok', response}
