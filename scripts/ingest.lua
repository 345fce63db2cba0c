-- wrk script: POSTs a realistic tracker batch to /i, each request a new
-- (session, seq) so the processor does real work too.
-- Usage: wrk -t2 -c64 -d20s -s scripts/ingest.lua "http://127.0.0.1:8080/i?k=SITEKEY"

local body = [==[{"sent":1733312345678,"vid":"9f3a0c1b2d4e5f60","ev":[{"type":"pageview","t":1733312340000,"pid":1,"url":"http://localhost/products/blue-shoes?utm_source=news","ref":"https://www.google.com/","title":"Blue shoes","vw":1440,"vh":900,"sw":2560,"sh":1440},{"type":"click","t":1733312341000,"pid":1,"sel":"#main > div.grid > div:nth-of-type(1) > a","ox":0.4213,"oy":0.5521,"x":300,"y":640,"vw":1440,"pw":1440,"ph":5200,"dead":false},{"type":"click","t":1733312341700,"pid":1,"sel":"#main > div.grid > div:nth-of-type(2) > a","ox":0.4213,"oy":0.5521,"x":500,"y":640,"vw":1440,"pw":1440,"ph":5200,"dead":false},{"type":"scroll","t":1733312342000,"pid":1,"depth":63,"ph":5200},{"type":"move","t":1733312342500,"pid":1,"vw":1440,"pw":1440,"ph":5200,"pts":[[400,300,0],[413,307,100],[426,314,200],[439,321,300],[452,328,400],[465,335,500],[478,342,600],[491,349,700],[504,356,800],[517,363,900]]}],"rec":[{"type":3,"data":{"source":1,"positions":[{"x":400,"y":300,"id":42,"timeOffset":0}]},"timestamp":1733312343000},{"type":3,"data":{"source":1,"positions":[{"x":401,"y":301,"id":42,"timeOffset":-50}]},"timestamp":1733312343100},{"type":3,"data":{"source":2,"type":2,"id":57,"x":300,"y":640},"timestamp":1733312343200}]}]==]

local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  math.randomseed(os.time() + id * 7919)
end

function request()
  counter = counter + 1
  local sid = string.format("%08x%08x", math.random(1, 0x7fffffff), counter)
  local path = wrk.path .. "&s=" .. sid .. "&n=1"
  return wrk.format("POST", path, {["Content-Type"] = "text/plain", ["Origin"] = "http://localhost",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}, body)
end
