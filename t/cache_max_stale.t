#!/usr/bin/python3
# SPEC §3/§5 (issue 11): ZddcCacheMaxStale bounds how old a copy may be and
# still be served with the master unreachable: older copies give 504,
# verdict MISS, and stay on disk; within the bound the copy is STALE.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
DOC = PROJ + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
BODY = b"%PDF-1.4 rev A"
m = master()
m.put_file(DOC, BODY, mtime=T0)
m.set_mtime(PROJ, T0)

a = Apache(cache_conf(m, "ZddcCacheMaxStale 3s\n")).start()
is_(a.get(DOC).status, 200, "fetched")
a.get(PROJ + "/", headers={"Accept": "application/json"})
ok(wait_until(lambda: a.disk(DOC) == BODY, 10), "stored")
confirmed = time.monotonic()
m.stop()
r = a.get(DOC)
is_((r.status, r.header("X-Zddc-Cache"), r.body), (200, "STALE", BODY),
    "master down, copy younger than MaxStale: STALE")
r = a.get(PROJ + "/", headers={"Accept": "text/html"})
is_((r.status, r.header("X-Zddc-Cache")), (200, "STALE"),
    "and the offline listing too")

r = wait_until(lambda: (lambda x: x if x.status == 504 else None)(a.get(DOC)),
               timeout=15, interval=0.25)
ok(r is not None, "once older than MaxStale the copy is no longer served")
ok(time.monotonic() - confirmed >= 2.5, "not before MaxStale passed")
is_((r.status, r.header("X-Zddc-Cache")) if r else None, (504, "MISS"),
    "504, verdict MISS")
is_(a.disk(DOC), BODY, "the old copy stays on disk")
# The listing was confirmed a moment after the file: wait for it too.
r = wait_until(lambda: (lambda x: x if x.status == 504 else None)(
    a.get(PROJ + "/", headers={"Accept": "text/html"})), 5, 0.25)
is_(r.status if r else None, 504, "the offline listing past MaxStale: 504")
like(a.error_log(), r"ZddcCacheMaxStale", "the error log says why")

m.start()
r = a.get(DOC)
is_((r.status, r.header("X-Zddc-Cache"), r.body), (200, "REVALIDATED", BODY),
    "master back: the kept copy revalidates")
a.stop()

for bad in ("soon", "-1s"):
    b = Apache(cache_conf(m, "ZddcCacheMaxStale %s\n" % bad))
    rc, out = b.configtest()
    isnt(rc, 0, "ZddcCacheMaxStale %s fails configtest" % bad)
    like(out, r"ZddcCacheMaxStale", "naming the directive")
b = Apache(cache_conf(m, "ZddcCacheMaxStale unlimited\n"))
is_(b.configtest()[0], 0, "'unlimited' is accepted")

done_testing()
