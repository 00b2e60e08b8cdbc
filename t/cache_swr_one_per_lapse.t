#!/usr/bin/python3
# SPEC §3 (ZddcCacheStaleWhileRevalidate: one background request per file
# at a time), issue 11's R2: clients hammering a file past its freshness
# cause one revalidation per lapse of ZddcCacheFreshness, never a second one
# right after the first confirmed the copy. (A request that saw the copy
# stale just before a background revalidation confirmed it used to start
# another one ~0.1 s later, found by bench/wan.py's R2.)
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

DOC = "/docs/hot.pdf"
FRESH = 1.0
m = master(slow_seconds=0.2)
m.put_file(DOC, b"%PDF hot" * 512, mtime=1700000000)
a = Apache(cache_conf(m, "ZddcCacheFreshness 1s\n"
                         "ZddcCacheStaleWhileRevalidate 1h\n")).start()
is_(a.get(DOC).status, 200, "first GET caches the file")
ok(wait_until(lambda: a.disk(DOC) is not None, 10), "stored")
m.set_fault("slow", DOC)        # each revalidation takes 0.2 s
m.clear_log()

stop = time.monotonic() + 6.0
verdicts = {}
errors = []
lock = threading.Lock()


def hammer():
    c = a.client()
    try:
        while time.monotonic() < stop:
            r = c.get(DOC)
            v = r.header("X-Zddc-Cache")
            with lock:
                verdicts[v] = verdicts.get(v, 0) + 1
                if r.status != 200:
                    errors.append(r.status)
    finally:
        c.close()


threads = [threading.Thread(target=hammer) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join(30)
note("verdicts: %r" % verdicts)
is_(errors, [], "every request was answered 200")
ok(verdicts.get("UPDATING", 0) > 0, "copies past freshness were served at "
   "once (UPDATING)")
times = sorted(e["time"] for e in m.requests("GET", DOC))
ok(3 <= len(times) <= 7, "about one revalidation per lapse of freshness in "
   "6 s (%d)" % len(times))
gaps = [round(b - t, 3) for t, b in zip(times, times[1:])]
ok(all(g >= FRESH * 0.9 for g in gaps), "no revalidation of a copy "
   "confirmed less than ZddcCacheFreshness ago (gaps %r)" % gaps)

done_testing()
