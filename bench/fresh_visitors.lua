-- wrk: every request a new visitor, as the worst case for visitors: the browser's User-Agent with a suffix
-- unique to the run (the prefix given after "--") and the request.
local prefix, n = "", 0

function init(args)
  prefix = args[1]
end

function request()
  n = n + 1
  return wrk.format(nil, wrk.path, {["User-Agent"] =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 " .. prefix .. n})
end
