#!/usr/bin/python3
# Cache pipeline (SPEC §5): concurrent revalidations of one cached file are
# coalesced: one upstream request, every client answered from its result.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
# The slow answer must outlast the six requests' arrival, TLS handshakes on
# a loaded machine included, or a late one rightly starts a second fill.
m = master(slow_seconds=4)
m.put_file("/c.pdf", b"cached body", mtime=T0)
a = Apache(cache_conf(m))
a.start()

r = a.get("/c.pdf")
ok(r.status == 200 and r.body == b"cached body"
   and wait_until(lambda: a.disk("/c.pdf") == b"cached body", 10),
   "the copy is cached")
m.clear_log()
m.set_fault("slow", "/c.pdf")       # each answer takes 4 s
rs = at_once(6, lambda i: a.get("/c.pdf", timeout=30))
ok(all(x.status == 200 and x.body == b"cached body" for x in rs),
   "every client gets the copy", [(x.status, x.body) for x in rs])
is_(sorted(set(x.header("X-Zddc-Cache") for x in rs)), ["REVALIDATED"],
    "each one REVALIDATED")
is_(m.count("GET", path="/c.pdf"), 1, "one upstream request for all six")

done_testing()
