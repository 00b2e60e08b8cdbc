#!/usr/bin/python3
# Issue 13, ZddcCacheMaxFileSize: a download that grows past the limit (a
# close-delimited endless body) or announces a Content-Length over it is
# stopped and discarded: nothing stored, no temp left, an older copy kept;
# the client gets a 502 or an aborted connection, never a complete-looking
# body; a walk counts each such file as one error and fetches the rest.
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
LIMIT = 100 * 1024
BOUND = 20.0            # seconds a refused download may take at most


def payload(tag, n):
    chunk = ("%s " % tag).encode() + bytes(range(256))
    return (chunk * (n // len(chunk) + 1))[:n]


SMALL = payload("small", 60 * 1024)
BIG = payload("big", 300 * 1024)
OLD = payload("old", 50 * 1024)


def temps(a):
    found = []
    for dirpath, dirs, files in os.walk(a.cache):
        found += [os.path.join(dirpath, n) for n in files + dirs
                  if n.startswith(".zddc-cache-tmp-")]
    return found


def timed_get(a, path):
    t = time.monotonic()
    try:
        r = a.get(path, timeout=BOUND + 10)
    except Exception as e:  # a reset before the status line: an error too
        r = e
    return r, time.monotonic() - t


def refused(r):
    """A 502, or a 200 whose connection was aborted mid-body."""
    if isinstance(r, Exception):
        return True
    return r.status == 502 or (r.status == 200 and r.incomplete)


def log_lines(a, path):
    return [ln for ln in a.error_log().splitlines()
            if "ZDDC01076" in ln and path in ln]


# --- configuration ----------------------------------------------------------
m = master()
for bad in ("lots", "-1", "10MB", "1.5M", "99999999999999999999"):
    c = Apache(cache_conf(m, "ZddcCacheMaxFileSize %s\n" % bad))
    rc, out = c.configtest()
    ok(rc != 0 and "ZddcCacheMaxFileSize" in out and bad in out,
       "configtest refuses ZddcCacheMaxFileSize %s, naming it" % bad, out)
for good in ("unlimited", "0", "102400", "100K", "2m", "1G"):
    c = Apache(cache_conf(m, "ZddcCacheMaxFileSize %s\n" % good))
    rc, out = c.configtest()
    is_(rc, 0, "configtest accepts ZddcCacheMaxFileSize %s" % good)

# --- the request path -------------------------------------------------------
m.put_file("/c/small.pdf", SMALL, mtime=T0)
m.put_file("/c/big.pdf", BIG, mtime=T0)
m.put_file("/c/endless.pdf", SMALL, mtime=T0)
m.put_file("/c/doc.pdf", OLD, mtime=T0)
m.set_fault("endless", "/c/endless.pdf")
a = Apache(cache_conf(m, "ZddcCacheMaxFileSize 100K\n"
                      "ZddcUpstreamTimeout 10s\n")).start()

r = a.get("/c/small.pdf")
ok(r.status == 200 and r.body == SMALL and not r.incomplete,
   "a file under the limit is served whole", r)
ok(wait_until(lambda: a.disk("/c/small.pdf") == SMALL, 10),
   "and stored")

r, took = timed_get(a, "/c/big.pdf")
is_(getattr(r, "status", r), 502,
    "a Content-Length over the limit: 502")
ok(took < BOUND, "at once (%.1f s)" % took)
ok(not os.path.exists(a.on_disk("/c/big.pdf")), "nothing stored")
ok(a.wait_log(r"ZDDC01076: .*/c/big\.pdf.*Content-Length of %d bytes, "
              r"over ZddcCacheMaxFileSize \(%d\)" % (len(BIG), LIMIT), 10),
   "the error log names the file, its length and the limit",
   a.error_log_tail())

r, took = timed_get(a, "/c/endless.pdf")
ok(refused(r), "an endless body: 502 or an aborted connection, never a "
   "complete answer", r)
ok(took < BOUND, "within a bounded time (%.1f s)" % took)
ok(isinstance(r, Exception) or len(r.body) <= LIMIT + 64 * 1024,
   "the client got no more than the limit and a read buffer",
   isinstance(r, Exception) or len(r.body))
ok(a.wait_log(r"ZDDC01076: .*/c/endless\.pdf.*body grew past", 10),
   "the error log says the body outgrew the limit", a.error_log_tail())
ok(not os.path.exists(a.on_disk("/c/endless.pdf")), "nothing stored")
ok(wait_until(lambda: not temps(a), 10), "no temp file left", temps(a))

# Clients sharing one such download all fail cleanly.
m.put_file("/c/shared.pdf", SMALL, mtime=T0)
m.set_fault("endless", "/c/shared.pdf")
got = at_once(4, lambda i: timed_get(a, "/c/shared.pdf"))
ok(all(isinstance(g, tuple) and refused(g[0]) for g in got),
   "four clients of one endless download: each refused", got)
ok(all(isinstance(g, tuple) and g[1] < BOUND for g in got),
   "each within a bounded time", [getattr(g, "__getitem__", None) and g[1]
                                  for g in got])
ok(not os.path.exists(a.on_disk("/c/shared.pdf")), "nothing stored")
ok(wait_until(lambda: not temps(a), 10), "no temp file left", temps(a))

# An older good copy survives both ways of outgrowing the limit.
r = a.get("/c/doc.pdf")
ok(r.status == 200 and r.body == OLD, "a good copy is cached", r)
ok(wait_until(lambda: a.disk("/c/doc.pdf") == OLD, 10), "it is on disk")
m.put_file("/c/doc.pdf", BIG, mtime=T0 + 100)
r, took = timed_get(a, "/c/doc.pdf")
is_(getattr(r, "status", r), 502,
    "a newer version over the limit (Content-Length): 502")
ok(a.disk("/c/doc.pdf") == OLD, "the older copy stays on disk")
m.set_fault("endless", "/c/doc.pdf")
r, took = timed_get(a, "/c/doc.pdf")
ok(refused(r), "a newer version that never ends: refused", r)
ok(took < BOUND, "within a bounded time (%.1f s)" % took)
ok(a.disk("/c/doc.pdf") == OLD, "the older copy still stays on disk")
ok(wait_until(lambda: not temps(a), 10), "no temp file left", temps(a))
m.clear_faults()
m.put_file("/c/doc.pdf", OLD, mtime=T0)
r = a.get("/c/doc.pdf")
ok(r.status == 200 and r.body == OLD and not r.incomplete,
   "once the master serves it again, the older copy is served", r)
like(r.header("X-Zddc-Cache", ""), r"REVALIDATED",
     "from the cache (REVALIDATED)")
a.stop()

# --- the walker -------------------------------------------------------------
m.put_file("/w/a.pdf", SMALL, mtime=T0)
m.put_file("/w/big.pdf", BIG, mtime=T0)
m.put_file("/w/endless.pdf", SMALL, mtime=T0)
m.put_file("/w/z.pdf", OLD, mtime=T0)
ODD = "/w/big\x1b[1m.pdf"        # a terminal escape in the master's name
m.put_file(ODD, BIG, mtime=T0)
m.set_fault("endless", "/w/endless.pdf")
w = Apache(mirror_conf(m, "ZddcMirrorSubtree /w\n"
                       "ZddcMirrorMinInterval 1h\n"
                       "ZddcCacheMaxFileSize 100K\n"
                       "ZddcUpstreamTimeout 10s\n",
                       token="test-token")).start()
w.get("/w/")
done = w.wait_log(r"walk of /w (finished|failed).*", 3 * BOUND)
ok(done, "the walk ends", w.error_log_tail())
line = done.group(0) if done else ""
like(line, r"fetched=2 ", "the files under the limit are fetched")
like(line, r"errors=3 ", "each file over the limit counts as one error")
ok(w.disk("/w/a.pdf") == SMALL, "a.pdf stored")
ok(w.disk("/w/z.pdf") == OLD, "z.pdf stored")
ok(not os.path.exists(w.on_disk("/w/big.pdf")), "big.pdf not stored")
ok(not os.path.exists(w.on_disk("/w/endless.pdf")),
   "endless.pdf not stored")
is_(len(log_lines(w, "/w/big.pdf")), 1, "big.pdf logged once")
is_(len(log_lines(w, "/w/endless.pdf")), 1, "endless.pdf logged once")
is_(len(log_lines(w, "/w/big\\x1b[1m.pdf")), 1,
    "a name with a control character is logged once, escaped")
ok("\x1b" not in w.error_log(), "no raw control character in the log")
is_(temps(w), [], "no temp file left by the walk")
w.stop()

done_testing()
