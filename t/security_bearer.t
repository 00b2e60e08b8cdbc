#!/usr/bin/python3
# SPEC §3/§7/§8: the bearer token never appears in the error log (even at
# LogLevel debug/trace), the access log, response headers, error pages or
# status pages, whatever the pipeline does (MISS, 304, STALE, 401, 5xx,
# BYPASS, writes, reserved names, traversal, master down).
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
TOKEN = "s3cr3t-Bearer-7f9a2c"
FILE_TOKEN = "f1le-Bearer-0b1d3e"
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
SPEC = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
UML = PROJ + "/\u00dcberpr\u00fcfung #3 (100%).pdf"
NEVER = TRN + "/123456-EL-CAL-0500_0 (IFI) - Never cached.pdf"

m = master(acl={TOKEN: ["/"], FILE_TOKEN: ["/"]})
m.put_file(SPEC, b"%PDF-1.4 spec " * 100, mtime=T0)
m.put_file(UML, b"uml", mtime=T0)
m.put_file(NEVER, b"never", mtime=T0)
m.set_mtime(TRN, T0)

p2 = free_port()
a = Apache(cache_conf(m, """\
LogLevel trace1 zddc_mirror:trace8
<Location /server-status>
    SetHandler server-status
</Location>
<Location /zddc-status>
    SetHandler zddc-status
</Location>
""", token=TOKEN), server_conf="""\
ExtendedStatus On
Listen 127.0.0.1:%d
<VirtualHost 127.0.0.1:%d>
    ServerName 127.0.0.1
    ZddcMode Cache
    ZddcUpstream %s
    ZddcUpstreamBearerFile {root}/conf/bearer
    ZddcCacheRoot {root}/cache2
    LogLevel trace1 zddc_mirror:trace8
</VirtualHost>
""" % (p2, p2, m.base_url))
with open(os.path.join(a.root, "conf", "bearer"), "w") as f:
    f.write(FILE_TOKEN + "\n")
rc, out = a.configtest()
is_(rc, 0, "configtest passes")
ok(TOKEN not in out and FILE_TOKEN not in out,
   "configtest output never shows a bearer")
a.start()

responses = []


def rec(what, r):
    responses.append((what, r))
    return r


JSON = {"Accept": "application/json"}
rec("MISS", a.get(SPEC))
rec("REVALIDATED", a.get(SPEC))
rec("HEAD", a.head(SPEC))
rec("JSON listing", a.get(TRN + "/", headers=JSON))
rec("HTML listing", a.get(TRN + "/"))
rec("404 upstream", a.get(TRN + "/missing.pdf"))
rec("query BYPASS", a.get(SPEC, query="q=x"))
rec("PUT", a.request("PUT", TRN + "/new.txt", body=b"new"))
rec("reserved name", a.get(TRN + "/.zddc-listing.json"))
rec("traversal", a.get("/%2e%2e/%2e%2e/etc/passwd", raw=True))
rec("dir redirect", a.get(TRN))
rec("UTF-8 MISS", a.get(UML))
m.set_fault("5xx")
rec("5xx STALE", a.get(SPEC))
rec("5xx 502", a.get(NEVER))
rec("5xx listing", a.get(PROJ + "/", headers=JSON))
m.clear_faults()
m.set_fault("401", NEVER)
rec("401", a.get(NEVER))
rec("401 PUT", a.request("PUT", NEVER, body=b"x"))
m.clear_faults()
m.acl = {"someone-else": ["/"]}
rec("401 acl", a.get(SPEC))
rec("401 acl listing", a.get(TRN + "/", headers=JSON))
m.acl = {TOKEN: ["/"], FILE_TOKEN: ["/"]}
m.stop()
rec("down STALE", a.get(SPEC))
rec("down 504", a.get(NEVER))
rec("down listing", a.get(PROJ + "/"))
m.start()
with Client(p2) as c:
    rec("bearer file MISS", c.get(SPEC))
    rec("bearer file 404", c.get(TRN + "/missing.pdf"))
rec("server-status", a.get("/server-status"))
rec("server-status auto", a.get("/server-status", query="auto"))
rec("zddc-status", a.get("/zddc-status"))
rec("zddc-status json", a.get("/zddc-status", headers=JSON))

is_(m.requests("GET", path=SPEC)[0]["headers"].get("authorization"),
    "Bearer " + TOKEN, "precondition: the master did receive the bearer")
statuses = {what: r.status for what, r in responses}
ok(statuses["MISS"] == 200 and statuses["5xx 502"] == 502
   and statuses["401"] == 502 and statuses["down 504"] == 504,
   "precondition: the exercised paths gave the expected statuses",
   repr(statuses))

for what, r in responses:
    hdrs = "\n".join("%s: %s" % kv for kv in r.headers.items())
    leak = [t for t in (TOKEN, FILE_TOKEN) if t in hdrs or t.encode() in r.body]
    is_(leak, [], "%s (%d): no bearer in response headers or body"
        % (what, r.status))

a.stop()
err = a.error_log()
ok(err.count("\n") > 20, "the error log was written at trace level "
   "(sanity: %d lines)" % err.count("\n"))
for name, text in (("error log", err), ("access log", a.access_log()),
                   ("stderr", a.stderr_log())):
    ok(TOKEN not in text and FILE_TOKEN not in text,
       "%s never contains a bearer token" % name)
    ok("Bearer " not in text or all(
        ln.split("Bearer ", 1)[1][:6] not in (TOKEN[:6], FILE_TOKEN[:6])
        for ln in text.splitlines() if "Bearer " in ln),
       "%s has no 'Bearer <token-prefix>' fragment" % name)
logs = os.path.join(a.root, "logs")
for n in sorted(os.listdir(logs)):
    with open(os.path.join(logs, n), "rb") as f:
        data = f.read()
    ok(TOKEN.encode() not in data and FILE_TOKEN.encode() not in data,
       "logs/%s never contains a bearer token" % n)

done_testing()
