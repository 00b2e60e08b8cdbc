#!/usr/bin/python3
# Mirror mode (SPEC §6.2): a file another request is still downloading into
# the cache when the walk reaches it is not passed off as current. The walk
# waits for that download, then asks again (here a 304), so when the walk's
# summary line appears the file is in the cache, whole, and busy=0. It
# sends no request for the file while the other download runs.
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
SLOW = 4.0
BIG = "/Docs/big drawing.pdf"
BODY = b"D" * 300000

m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=SLOW)
m.put_file("/Docs/a.pdf", b"a" * 1000, mtime=T0)
m.put_file(BIG, BODY, mtime=T0)
m.set_fault("drip", BIG)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1h
"""))
a.start()

got = {}


def client():
    t = time.monotonic()
    r = a.get(BIG, timeout=30)
    got["status"], got["len"] = r.status, len(r.body)
    got["took"] = time.monotonic() - t


# The client's request is a cache miss: it downloads BIG into the cache
# (dripping for SLOW seconds) and its access kicks the walk.
th = threading.Thread(target=client)
th.start()
done = a.wait_log(r"walk of /Docs finished in \S+: (.*)$", SLOW + 20)
seen_at_end = os.path.isfile(a.cache + BIG) and \
    os.path.getsize(a.cache + BIG) == len(BODY)
th.join(30)

ok(done, "the walk finishes", a.error_log_tail())
is_(got.get("status"), 200, "the client got the file")
is_(got.get("len"), len(BODY), "whole")
ok(seen_at_end, "when the walk reports its end, the file the client was "
   "still downloading is in the cache, whole")
f = dict(kv.split("=", 1) for kv in done.group(1).split()) if done else {}
is_(f.get("busy"), "0", "no file is left busy")
is_(f.get("errors"), "0", "no errors")
is_(f.get("fetched"), "1", "the walk fetched a.pdf itself")
is_(f.get("skipped"), "1", "and found the other download's copy current")
gets = [e for e in m.requests("GET", path=BIG)]
ok(gets and gets[-1]["headers"].get("if-modified-since"),
   "the walk's last look at the file was conditional",
   [e["headers"] for e in gets])
# The walk takes a file for writing before it asks for it: one held by
# another writer costs the master no request (a download the walk would
# throw away) until that writer is done.
ok(len(gets) == 2, "the client's download and the walk's one conditional "
   "request, nothing in between", [e["headers"] for e in gets])

done_testing()
