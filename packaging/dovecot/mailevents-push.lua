-- mailevents-push.lua — Dovecot 2.3 push_notification Lua driver script that
-- writes every native push-notification event as one JSON line, for
-- `mailevents parse` (grammar "dovecot-push"). Enable it with
-- 96-mailevents-push.conf.
--
-- Why: Dovecot's logs never show UIDVALIDITY nor (un)subscriptions; the
-- push_notification plugin sees both, and this script only records what it
-- is given. Mapping to RFC 5423 is mailevents' job, not the script's.
--
-- Output file: the plugin setting `mailevents_push_file` (read per user, so
-- it may use %u etc. expanded by Dovecot), else DEFAULT_FILE below. The mail
-- processes run as the mail user, which must be able to append to it.
-- Lines are appended with one write each and flushed per line, so lines from
-- concurrent imap/lmtp processes do not interleave (O_APPEND).

local DEFAULT_FILE = "/var/log/dovecot/mailevents.jsonl"
local FORMAT = "dovecot-push/1"

-- JSON string escaping. Quotes, backslashes and control bytes are escaped;
-- valid UTF-8 passes through; a byte that is not part of valid UTF-8
-- (mailbox names and headers are not always clean) becomes \u00XX, i.e. is
-- read back as the Latin-1 character of that byte, so the line stays valid
-- JSON.
local ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
              ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function byte_escape(c)
  return ESC[c] or string.format("\\u%04x", c:byte())
end

local function json_string(s)
  s = tostring(s):gsub('[%z\1-\31"\\\127]', byte_escape)
  if utf8.len(s) then -- Lua 5.4: strict (no surrogates, no overlongs)
    return '"' .. s .. '"'
  end
  local out, i = {}, 1
  while i <= #s do
    local ok, bad = utf8.len(s, i)
    if ok then
      out[#out + 1] = s:sub(i)
      break
    end
    out[#out + 1] = s:sub(i, bad - 1)
    out[#out + 1] = byte_escape(s:sub(bad, bad))
    i = bad + 1
  end
  return '"' .. table.concat(out) .. '"'
end

-- The driver pushes numbers with lua_pushnumber (floats in Lua 5.4): write
-- integral values without ".0".
local function json_number(n)
  local i = math.tointeger(n)
  if i then return tostring(i) end
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  return string.format("%.17g", n)
end

local function json_value(v)
  local t = type(v)
  if t == "number" then return json_number(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" then -- the driver's flag and keyword lists
    local parts = {}
    for _, x in ipairs(v) do parts[#parts + 1] = json_value(x) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  return json_string(v)
end

-- Keys copied from the driver's event table, in output order. Absent or
-- empty values are left out.
local EVENT_KEYS = {
  "mailbox", "mailbox_old", "uid", "uid_validity",
  "flags", "keywords", "flags_old", "keywords_old",
  "from", "from_address", "from_display_name",
  "to", "to_address", "to_display_name",
  "subject", "message_id", "date", "tz", "snippet",
}

local function open_output(path)
  local f, err = io.open(path, "a")
  if not f then
    dovecot.i_error("mailevents-push: cannot open " .. path .. ": " .. tostring(err))
    return nil
  end
  f:setvbuf("full", 65536) -- one write(2) per line, done by flush below
  return f
end

-- Called once per transaction with the mail user; what it returns is the
-- ctx of the calls below. The output file is opened per transaction so that
-- log rotation needs no signal.
function dovecot_lua_notify_begin_txn(user)
  local path = user:plugin_getenv("mailevents_push_file")
  if path == nil or path == "" then path = DEFAULT_FILE end
  return {
    user = user, username = user.username, service = user.service,
    session = user.session_id, path = path, lines = {},
  }
end

-- Mailbox events carry no UIDVALIDITY: for MailboxCreate and MailboxRename
-- ask the (new) mailbox for it. Any failure just leaves it out.
local function mailbox_uidvalidity(user, name)
  local ok, v = pcall(function()
    local box = user:mailbox(name)
    local st = box:status(dovecot.storage.STATUS_UIDVALIDITY)
    box:free()
    return st and st.uidvalidity
  end)
  if ok then return v end
  return nil
end

local function record(ctx, ev)
  -- os.time() has whole seconds, and the driver passes no time of its own:
  -- time_digits says so, and mailevents keeps that precision.
  local parts = {
    '"mailevents":' .. json_string(FORMAT),
    '"time":' .. json_string(os.date("!%Y-%m-%dT%H:%M:%SZ")),
    '"time_digits":0',
    '"event":' .. json_string(ev.name),
    '"user":' .. json_string(ctx.username),
  }
  if ctx.service then parts[#parts + 1] = '"service":' .. json_string(ctx.service) end
  if ctx.session then parts[#parts + 1] = '"session":' .. json_string(ctx.session) end
  if (ev.name == "MailboxCreate" or ev.name == "MailboxRename") and ev.uid_validity == nil then
    ev.uid_validity = mailbox_uidvalidity(ctx.user, ev.mailbox)
  end
  for _, k in ipairs(EVENT_KEYS) do
    local v = ev[k]
    if v ~= nil and v ~= "" then
      parts[#parts + 1] = json_string(k) .. ":" .. json_value(v)
    end
  end
  ctx.lines[#ctx.lines + 1] = "{" .. table.concat(parts, ",") .. "}\n"
end

-- One handler per native event: the driver subscribes only to events whose
-- dovecot_lua_notify_event_<snake_case_name> function exists.
for _, name in ipairs({
  "message_new", "message_append", "message_expunge", "message_read",
  "message_trash", "flags_set", "flags_clear", "mailbox_create",
  "mailbox_delete", "mailbox_rename", "mailbox_subscribe",
  "mailbox_unsubscribe",
}) do
  _G["dovecot_lua_notify_event_" .. name] = record
end

-- Called after the transaction; success is false when it failed, in which
-- case its events did not happen and nothing is written.
function dovecot_lua_notify_end_txn(ctx, success)
  if not success or #ctx.lines == 0 then return end
  local f = open_output(ctx.path)
  if not f then return end
  for _, line in ipairs(ctx.lines) do
    f:write(line)
    f:flush()
  end
  f:close()
end
