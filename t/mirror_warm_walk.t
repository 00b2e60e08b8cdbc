#!/usr/bin/python3
# Mirror mode (SPEC §6.1-6.2): a walk over an unchanged, already mirrored
# subtree sends listing requests only (If-None-Match when the master gave
# ETags, never If-Modified-Since), and no per-file GET.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
for i in range(12):
    m.put_file("/Docs/d%d/file %d.pdf" % (i % 3, i), b"y" * (50 + i),
               mtime=T0)
for d in ("/Docs/d0", "/Docs/d1", "/Docs/d2", "/Docs"):
    m.set_mtime(d, T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1s
"""))
a.start()


def walks():
    return re.findall(r"walk of /Docs finished in \S+: (.*)", a.error_log())


a.get("/Docs/")
ok(wait_until(lambda: len(walks()) == 1, 15), "first (cold) walk ran")
like(walks()[0] if walks() else "", r"files=12 fetched=12 ",
     "the cold walk fetched every file")



def warm_walk(n, what):
    m.clear_log()
    a.walk_when_due("/Docs", "/Docs/")
    ok(wait_until(lambda: len(walks()) == n, 15), what, a.error_log_tail())
    like(walks()[-1] if walks() else "", r"dirs=4 files=12 fetched=0 "
         r"skipped=12 purged=0 errors=0 bytes=0",
         "the warm walk skipped every file")
    file_gets = [e["path"] for e in m.requests("GET")
                 if not e["path"].endswith("/")]
    is_(file_gets, [], "no per-file GET reached the upstream")
    listings = [e for e in m.requests("GET")
                if "application/json" in e["headers"].get("accept", "")]
    is_(len(listings), 4, "one JSON listing request per directory")
    ok(not any(e["headers"].get("if-modified-since") for e in listings),
       "no listing request carries If-Modified-Since (SPEC 6.1)",
       [e["headers"] for e in listings])
    return listings


# Without listing ETags every listing is fetched whole.
listings = warm_walk(2, "second (warm) walk ran")
ok(not any(e["headers"].get("if-none-match") for e in listings),
   "no If-None-Match without ETags")

# With them, the walk after the one that stored them is all If-None-Match.
m.listing_etags = True
warm_walk(3, "third (warm) walk ran, storing ETags")
listings = warm_walk(4, "fourth (warm) walk ran")
ok(listings and all(e["headers"].get("if-none-match") for e in listings),
   "every listing request was conditional (If-None-Match)",
   [e["headers"] for e in listings])

done_testing()
