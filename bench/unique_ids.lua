-- wrk: the URL's path with a fresh id on every request, as counter.js sends one per hit.
-- The id is the prefix given after "--" (unique to the run) and a request number: 24 characters.
local prefix, n = "", 0

function init(args)
  prefix = args[1]
end

function request()
  n = n + 1
  return wrk.format(nil, wrk.path .. "&id=" .. prefix .. string.format("%08d", n))
end
