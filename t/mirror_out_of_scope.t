#!/usr/bin/python3
# Mirror mode (SPEC §6 trigger): requests outside every configured subtree
# start no walk; subtrees match on whole path segments, longest prefix wins.
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
for path in ("/Docs/d.pdf", "/Docs2/x.pdf", "/Projects/P1/p1.pdf",
             "/Projects/P10/p10.pdf", "/Projects/other.pdf", "/root.txt"):
    m.put_file(path, path.encode(), mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs,/Projects/P1
ZddcMirrorSubtree /Projects/P1/deeper
"""))
a.start()


def json_listings():
    return [e["path"] for e in m.requests("GET")
            if "application/json" in e["headers"].get("accept", "")]


for path in ("/root.txt", "/", "/Docs2/x.pdf", "/Projects/",
             "/Projects/other.pdf", "/Projects/P10/p10.pdf", "/Doc"):
    r = a.get(path)
    ok(r.status in (200, 301, 404), "GET %s answered (%d)" % (path, r.status))
# A walk is queued (and logged) in the request's fixups, before its
# response: every trigger above has logged by now, nothing to wait for.
unlike(a.error_log(), r"walk of ", "no walk started by requests outside "
       "every subtree")
is_(json_listings(), [], "no JSON listing asked upstream")
ok(not os.path.exists(os.path.join(a.cache, ".zddc-mirror-state.json")),
   "no state file written")

r = a.get("/Projects/P1/p1.pdf")
is_(r.status, 200, "a request under /Projects/P1 is served")
ok(a.wait_log(r"walk of /Projects/P1 finished", 15),
   "and starts a walk of /Projects/P1", a.error_log_tail())
# A walk is queued (and logged) in the request's fixups, before its
# response: every trigger above has logged by now, nothing to wait for.
unlike(a.error_log(), r"walk of /Docs ", "the /Docs subtree is not walked")
unlike(a.error_log(), r"walk of /Projects/P1/deeper", "the deeper subtree "
       "is not walked by a request above it")
ok(all(p.startswith("/Projects/P1/") for p in json_listings()),
   "only listings under /Projects/P1 were asked", json_listings())
ok("/Projects/P10/" not in json_listings(),
   "/Projects/P10 is not part of /Projects/P1")

a.get("/Docs/d.pdf")
ok(a.wait_log(r"walk of /Docs finished", 15), "a request under /Docs walks "
   "/Docs")
is_(len(re.findall(r"walk of /Projects/P1 finished", a.error_log())), 1,
    "/Projects/P1 was walked once")

done_testing()
