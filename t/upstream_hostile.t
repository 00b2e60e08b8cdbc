#!/usr/bin/python3
# Issue 9/13, SPEC §5: a hostile raw-socket upstream (plain http by its
# nature, so pinned to http). Keep-alive desync bytes never become another
# request's answer; a 1xx flood, endless trailers, conflicting
# Content-Length, a folded or unknown Transfer-Encoding and a header drip
# each end in a clean 502/504 (or, once a body has started, an aborted
# response) within ZddcUpstreamTimeout, with nothing stored.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from hostile_master import HostileMaster  # noqa: E402

TIMEOUT = 3.0
# one child, so the request path's reused handles (and their kept-alive
# connections) are the same from one request to the next
ONE_CHILD = ("ServerLimit 1\nStartServers 1\nMinSpareThreads 1\n"
             "MaxSpareThreads 32\nMaxRequestWorkers 16\n")

h = HostileMaster().start()
a = Apache("ZddcMode Cache\nZddcUpstream %s\nZddcUpstreamTimeout 3s\n"
           "ZddcCacheRoot {cache}\n" % h.base_url, server_conf=ONE_CHILD)
a.start()


def stored_files():
    found = []
    for d, _, files in os.walk(a.cache):
        found += [os.path.relpath(os.path.join(d, f), a.cache)
                  for f in files if f != ".zddc-cache"]
    return sorted(found)


# --- keep-alive desync ------------------------------------------------------
evil = []
for i in range(6):
    r1 = a.get("/desync/a%d.pdf" % i)
    if i == 0:
        is_(r1.body, b"GOOD", "desync: the first request got its answer")
    # the unasked-for answer is on the kept-alive connection once sent
    ok(wait_until(lambda: h.desync_sent == i + 1, 5),
       "desync %d: the master sent an answer nobody asked for" % i)
    r2 = a.get("/ok/b%d.pdf" % i)
    if r1.body == b"EVIL" or r2.body == b"EVIL" \
            or a.disk("/ok/b%d.pdf" % i) == b"EVIL":
        evil.append((i, r1.body, r2.body))
    ok(r2.status == 200 and r2.body == b"OK:/ok/b%d.pdf" % i,
       "desync %d: the next request got its own answer" % i,
       "got %r %r" % (r2, r2.body))
is_(evil, [], "desync bytes never became another URL's answer or cache entry")
ok(wait_until(lambda: all(a.disk("/ok/b%d.pdf" % i) == b"OK:/ok/b%d.pdf" % i
                          for i in range(6)), 5),
   "desync: each file is cached with its own content")

# --- one broken answer per path ------------------------------------------------
CASES = [
    ("/flood/x.pdf", "1xx flood", (502,)),
    ("/conflict/x.pdf", "conflicting Content-Length", (502,)),
    ("/folded/x.pdf", "Transfer-Encoding folded onto a continuation line",
     (502,)),
    ("/coding/x.pdf", "Transfer-Encoding gzip, chunked (never asked for)",
     (502,)),
    ("/drip/x.pdf", "a response head dripping one byte at a time", (504,)),
    ("/trailers/x.pdf", "endless trailers", (502, 200)),
]
for path, what, statuses in CASES:
    t0 = time.monotonic()
    try:
        r = a.get(path, timeout=TIMEOUT + 10)
    except OSError as e:        # no answer at all: reported, not fatal
        r = Response(0, str(e), {}, b"")
    took = time.monotonic() - t0
    clean = r.status in statuses and (r.status != 200 or r.incomplete)
    ok(clean, "%s: answered %s%s" % (
        what, "/".join(str(s) for s in statuses if s != 200),
        " (or an aborted 200)" if 200 in statuses else ""),
       "got %r body %r" % (r, r.body[:200]))
    ok(took < TIMEOUT + 2.5, "%s: within ZddcUpstreamTimeout (%.1fs)"
       % (what, took))
    ok(not os.path.lexists(a.on_disk(path)), "%s: nothing stored" % what)

is_([f for f in stored_files() if not f.startswith(("ok/", "desync/"))], [],
    "nothing but the good answers in the cache root (no temp files either)")
ok(wait_until(lambda: all(a.disk("/desync/a%d.pdf" % i) == b"GOOD"
                          for i in range(6)), 5),
   "desync: the first answers are cached as they were sent")
like(a.error_log(), r"/flood/x\.pdf \(transfer broken: too many interim",
     "the error log names the 1xx flood")
like(a.error_log(), r"/conflict/x\.pdf \(transfer broken: invalid or "
     r"conflicting Content-Length", "the error log names the conflicting "
     "lengths")
r = a.get("/ok/after.pdf")
ok(r.status == 200 and r.body == b"OK:/ok/after.pdf",
   "the mirror still works after every hostile answer", repr(r))

a.stop()
h.stop()
done_testing()
