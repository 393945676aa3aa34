-- Create a notification once: its record, inbox entry, delivery jobs and
-- outbox entries, all or nothing, in one step on the peer's slot.
--
-- KEYS: 1 prefs, 2 record, 3 inbox, 4 jobs, 5 outbox, 6 revoked matches,
--       7 session -> match
-- ARGV: 1 the preferences blob the plan was made from ('' = none stored)
--       2 JSON: {ttl, inbox_max, keep_ms, record: {..}, entry: {..} or [],
--                jobs: {member: score}, match: id or '', session: id or ''}
--       3.. outbox entries, each a count n followed by n field/value pairs
--           (bodies are binary, so they stay out of the JSON)
-- Returns {'created', entry id}, {'duplicate', ''}, {'stale', current prefs}
-- or {'suppressed', ''} when the participant of the match revoked consent.

local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then
  return {'stale', current}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'duplicate', ''}
end

local doc = cjson.decode(ARGV[2])

-- Learn which match a session belongs to (reminders published before they
-- carried match_id name only the session),
-- then say nothing more about a match whose participant revoked consent.
local match = doc.match
if doc.session ~= '' then
  if match ~= '' then
    redis.call('HSET', KEYS[7], doc.session, match)
    redis.call('EXPIRE', KEYS[7], doc.ttl)
  else
    match = redis.call('HGET', KEYS[7], doc.session) or ''
  end
end
if match ~= '' and redis.call('SISMEMBER', KEYS[6], match) == 1 then
  return {'suppressed', ''}
end
local function flat(map)
  local items = {}
  for k, v in pairs(map) do
    items[#items + 1] = k
    items[#items + 1] = v
  end
  return items
end

redis.call('HSET', KEYS[2], unpack(flat(doc.record)))
redis.call('EXPIRE', KEYS[2], doc.ttl)

local id = ''
local entry = flat(doc.entry)
if #entry > 0 then
  id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', doc.inbox_max, '*', unpack(entry))
  -- Entry ids count the server's milliseconds: trim by age from the new id.
  local now = tonumber(string.match(id, '^(%d+)-'))
  redis.call('XTRIM', KEYS[3], 'MINID', '~', now - doc.keep_ms)
  redis.call('EXPIRE', KEYS[3], doc.ttl)
  redis.call('HSET', KEYS[2], 'entry', id)
end

for member, score in pairs(doc.jobs) do
  redis.call('ZADD', KEYS[4], score, member)
end

local at = 3
while at <= #ARGV do
  local n = tonumber(ARGV[at])
  redis.call('XADD', KEYS[5], '*', unpack(ARGV, at + 1, at + n * 2))
  at = at + n * 2 + 1
end
return {'created', id}
