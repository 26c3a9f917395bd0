-- wrk: the URL's path with something fresh on every request, made of the prefix given after "--" (unique to the
-- run) and a request number: an id (24 characters), as counter.js sends one per hit; or, with "agent" as the
-- second argument, a new visitor: the browser's User-Agent with that suffix.
local prefix, mode, n = "", "id", 0

function init(args)
  prefix = args[1]
  mode = args[2] or "id"
end

function request()
  n = n + 1
  local fresh = prefix .. string.format("%08d", n)
  if mode == "agent" then
    return wrk.format(nil, wrk.path, {["User-Agent"] =
      "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 " .. fresh})
  end
  return wrk.format(nil, wrk.path .. "&id=" .. fresh)
end
