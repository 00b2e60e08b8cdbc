#!/usr/bin/python3
# SPEC §3/§5 (issue 11): ZddcCacheStaleWhileRevalidate. Past freshness but
# within the window, a copy is served at once (UPDATING, Cache-Status
# detail=updating, Age) and exactly one background request revalidates it;
# with the master down, requests in the window are still served and the
# copy is marked STALE. A walk that finds a file unchanged in its listing
# confirms it, so a walked file is read at local speed (HIT).
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
DOC = PROJ + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
BODY = b"%PDF-1.4 rev A" * 100
m = master(slow_seconds=3)
m.put_file(DOC, BODY, mtime=T0)
m.set_mtime(PROJ, T0)
FRESH = 1.0

a = Apache(cache_conf(m, "ZddcCacheFreshness 1s\n"
                         "ZddcCacheStaleWhileRevalidate 60s\n")).start()
is_(a.get(DOC).header("X-Zddc-Cache"), "MISS", "first GET: MISS")
ok(wait_until(lambda: a.disk(DOC) == BODY, 10), "stored")
is_(a.get(DOC).header("X-Zddc-Cache"), "HIT", "within freshness: HIT")

a.wait_confirmed_for(DOC, FRESH)    # under test: freshness running out
m.set_fault("slow", DOC)
m.clear_log()


def timed_get(i):
    t = time.monotonic()
    r = a.get(DOC)
    return r, time.monotonic() - t


res = at_once(5, timed_get)
ok(all(not isinstance(x, Exception) for x in res), "five concurrent GETs",
   res)
res = [x for x in res if not isinstance(x, Exception)]
is_([(r.status, r.header("X-Zddc-Cache"), r.body == BODY) for r, _ in res],
    [(200, "UPDATING", True)] * 5,
    "past freshness, inside the window: the copy at once, UPDATING")
ok(max(t for _, t in res) < 2.0, "none waited for the slow master "
   "(%.2f s at most; the master takes 3 s)" % max(t for _, t in res))
like(res[0][0].header("Cache-Status", ""), r"; hit; detail=updating$",
     "Cache-Status: hit; detail=updating")
ok(res[0][0].header("Age") is not None, "with an Age")
ok(wait_until(lambda: m.count("GET", DOC) >= 1, 10),
   "a background request revalidates the copy")
ok(wait_until(lambda: a.get(DOC).header("X-Zddc-Cache") == "HIT", 15),
   "once it answered, the copy is fresh again (HIT)")
is_(m.count("GET", DOC), 1, "exactly one background request for the five")
m.clear_faults()

# --- the master down inside the window --------------------------------------
a.wait_confirmed_for(DOC, FRESH)
m.stop()
r = a.get(DOC)
is_((r.status, r.body == BODY), (200, True),
    "master down inside the window: still served at once")
r = wait_until(lambda: (lambda x: x if x.header("X-Zddc-Cache") == "STALE"
                        else None)(a.get(DOC)), 15, 0.2)
ok(r is not None, "once the background request failed the copy is marked "
   "STALE")
if r:
    is_((r.status, r.body == BODY), (200, True), "and still served")
    like(r.header("Cache-Status", ""), r'; hit; detail="stale: upstream '
         r'unreachable', "Cache-Status says why")
    ok(int(r.header("Age", "0")) >= 1, "with its Age")
m.start()
ok(wait_until(lambda: a.get(DOC).header("X-Zddc-Cache") in ("HIT",
                                                            "UPDATING"), 15),
   "the master back: UPDATING/HIT again")
a.stop()

# --- a walk confirms what it finds unchanged --------------------------------
m.clear_log()
w = Apache(mirror_conf(m, "ZddcMirrorSubtree %s\nZddcCacheFreshness 2s\n"
                       "ZddcMirrorMinInterval 0\n" % PROJ, token="test-token"))
w.start()
w.get(PROJ + "/")
ok(w.wait_log(r"walk of /Project 123456 finished", 20), "a walk ran",
   w.error_log_tail())
ok(wait_until(lambda: w.disk(DOC) == BODY, 5), "it mirrored the document")
before = len(re.findall(r"walk of /Project 123456 finished", w.error_log()))
w.wait_confirmed_for(DOC, 2.0)      # the fetched copy's freshness runs out
m.clear_log()
w.get(PROJ + "/")
ok(wait_until(lambda: len(re.findall(r"walk of /Project 123456 finished",
                                     w.error_log())) > before, 20),
   "a second walk found it unchanged")
m.clear_log()
r = w.get(DOC)
is_(r.header("X-Zddc-Cache"), "HIT", "a walked document is read at local "
    "speed (HIT)")
is_(m.count("GET", DOC), 0, "without asking the master")

done_testing()
