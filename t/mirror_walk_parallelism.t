#!/usr/bin/python3
# SPEC §6: a walk keeps ZddcMirrorParallelism requests in flight, never
# more. The fake master speaks HTTP/1.1 only (also over https, where the
# walk first learns that from the master's answer), so the 8 requests need
# 8 connections; each file takes 0.5 s to answer.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
N, PAR = 24, 8

m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=0.5)
files = {"/P/f%02d.bin" % i: b"file %d\n" % i * 50 for i in range(N)}
for path, data in files.items():
    m.put_file(path, data, mtime=T0)
m.set_fault("slow", "/P/f")

a = Apache(mirror_conf(m, "ZddcMirrorSubtree /P\nZddcMirrorParallelism %d\n"
                       % PAR))
a.start()
a.get("/P/", headers={"Accept": "application/json"})
done = a.wait_log(r"walk of /P finished in \S+: (.*)$", 30)
ok(done, "the walk of /P finished", a.error_log_tail())
figures = dict(kv.split("=") for kv in done.group(1).split()) if done else {}
is_(figures.get("fetched"), str(N), "every file was fetched")
is_(m.max_inflight, PAR, "the master saw exactly ZddcMirrorParallelism (%d) "
    "requests in flight at the most" % PAR)
missing = [p for p, data in files.items() if a.disk(p) != data]
is_(missing, [], "every file is in the cache")

a.stop()
done_testing()
