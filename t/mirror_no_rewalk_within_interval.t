#!/usr/bin/python3
# Mirror mode (SPEC §6 trigger): many requests, at once and later, within
# ZddcMirrorMinInterval start exactly one walk across all child processes.
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
for i in range(30):
    m.put_file("/Docs/sub%d/file %d.pdf" % (i % 3, i), b"x" * (100 + i),
               mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1h
"""))
a.start()

statuses = []


def hit(i):
    statuses.append(a.get("/Docs/sub%d/file %d.pdf" % (i % 3, i)).status)


threads = [threading.Thread(target=hit, args=(i,)) for i in range(24)]
for t in threads:
    t.start()
for t in threads:
    t.join()
is_(sorted(set(statuses)), [200], "24 concurrent requests are all served")
ok(a.wait_log(r"walk of /Docs finished", 20), "a walk of /Docs ran",
   a.error_log_tail())

for i in range(10):
    a.get("/Docs/sub0/file 0.pdf")
a.get("/Docs/")
# A walk is queued (and logged) in the request's fixups, before its
# response: every trigger above has logged by now, nothing to wait for.
log = a.error_log()
is_(len(re.findall(r"walk of /Docs queued", log)), 1,
    "exactly one walk was queued")
is_(len(re.findall(r"walk of /Docs finished", log)), 1,
    "exactly one walk ran")
pids = set(re.findall(r"\[pid (\d+):tid \d+\] \[client", log))
note("requests logged by processes %s" % sorted(pids))
is_(len([e for e in m.requests("GET", path="/Docs/")
         if "application/json" in e["headers"].get("accept", "")]), 1,
    "the subtree's JSON listing was asked once")

done_testing()
