#!/usr/bin/python3
# SPEC §5 file table, row by row: MISS, REVALIDATED, HIT, 403/404/410 purge,
# STALE on 5xx / timeout / down, 502 and 504 without a copy; the verdict in
# X-Zddc-Cache and in the access log (ZDDC_CACHE_STATUS).
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from fake_master import http_date  # noqa: E402

T0 = 1700000000
T1 = T0 + 86400
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
SPEC = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
UML = PROJ + "/\u00dcberpr\u00fcfung #3 (100%).pdf"
BODY = b"%PDF-1.4 pump spec rev A\n" + bytes(range(256)) * 40
BODY2 = b"%PDF-1.4 pump spec rev B\n" + b"B" * 7000
GONE = {code: TRN + "/123456-EL-DWG-%s_0 (IFC) - Gone %s?.pdf" % (code, code)
        for code in ("403", "404", "410")}
REMOVED = TRN + "/123456-EL-LST-0009_A (IFR) - Removed upstream.pdf"
NEVER = TRN + "/123456-EL-CAL-0500_0 (IFI) - Never cached.pdf"
SLOWF = PROJ + "/Slow #1 (timeout).pdf"

m = master()
m.slow_seconds = 5
m.put_file(SPEC, BODY, mtime=T0)
m.put_file(UML, "\u00dcberpr\u00fcfung body", mtime=T0)
for p in list(GONE.values()) + [REMOVED, NEVER, SLOWF]:
    m.put_file(p, b"doc " + p.encode(), mtime=T0)

VHOST = cache_conf(m, "ZddcUpstreamTimeout 2s\n")
a = Apache(VHOST).start()
on_disk, disk = a.on_disk, a.disk


def log_verdicts(apache, path):
    """(method, status, verdict) of each access-log line for path."""
    out, tgt = [], quote_path(path)
    for line in apache.access_log().splitlines():
        mm = re.search(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3}) \S+ (\S+)$',
                       line)
        if mm and mm.group(2) == tgt:
            out.append((mm.group(1), int(mm.group(3)), mm.group(4)))
    return out


def check_log(apache, path, n, status, verdict, what):
    """The n-th request for path is logged with status and verdict. A
    request's line is written when it ends, and a MISS's handler may end
    after its client has read the body and sent the next request, so the
    n-th request's line is looked for among the first n lines."""
    lines = wait_until(lambda: len(log_verdicts(apache, path)) >= n, 5) \
        and log_verdicts(apache, path)[:n]
    ok(lines and ("GET", status, verdict) in lines,
       "%s: access log line %d has status %d and ZDDC_CACHE_STATUS %s"
       % (what, n, status, verdict), "lines: %r" % (lines,))


# --- row 200, no copy: MISS -------------------------------------------------
r = a.get(SPEC)
is_(r.status, 200, "MISS: GET of an uncached file -> 200")
ok(r.body == BODY, "MISS: the client gets the upstream body (%d bytes)"
   % len(BODY), "got %d bytes" % len(r.body))
is_(r.header("X-Zddc-Cache"), "MISS", "MISS: X-Zddc-Cache: MISS")
is_(r.header("Last-Modified"), http_date(T0),
    "MISS: Last-Modified is the upstream's")
ok(wait_until(lambda: disk(SPEC) == BODY, 5),
   "MISS: the file is stored at its decoded path under the cache root",
   "on disk: %r" % (disk(SPEC) or b"")[:60])
is_(int(os.stat(on_disk(SPEC)).st_mtime), T0,
    "MISS: the cached file's mtime is the upstream Last-Modified")
check_log(a, SPEC, 1, 200, "MISS", "MISS")
is_(m.requests("GET", path=SPEC)[-1]["headers"].get("if-modified-since"),
    None, "MISS: the first upstream GET is unconditional")

# --- row 304 with copy: REVALIDATED ------------------------------------------
n = m.count("GET", path=SPEC)
r = a.get(SPEC)
ok(r.status == 200 and r.body == BODY,
   "REVALIDATED: second GET -> 200 with the cached body", "got %r" % r)
is_(r.header("X-Zddc-Cache"), "REVALIDATED",
    "REVALIDATED: X-Zddc-Cache: REVALIDATED")
is_(m.count("GET", path=SPEC) - n, 1,
    "REVALIDATED: exactly one upstream request")
is_(m.requests("GET", path=SPEC)[-1]["headers"].get("if-modified-since"),
    http_date(T0), "REVALIDATED: upstream GET carried If-Modified-Since of "
    "the cached copy's mtime")
check_log(a, SPEC, 2, 200, "REVALIDATED", "REVALIDATED")

# --- row 200 with copy: replaced (MISS) ---------------------------------------
m.put_file(SPEC, BODY2, mtime=T1)
r = a.get(SPEC)
ok(r.status == 200 and r.body == BODY2,
   "changed upstream: GET -> 200 with the new body", "got %r" % r)
is_(r.header("X-Zddc-Cache"), "MISS", "changed upstream: X-Zddc-Cache: MISS")
ok(wait_until(lambda: disk(SPEC) == BODY2, 5),
   "changed upstream: the cached copy is replaced with the new body")
is_(int(os.stat(on_disk(SPEC)).st_mtime), T1,
    "changed upstream: the cached copy's mtime is the new Last-Modified")
check_log(a, SPEC, 3, 200, "MISS", "changed upstream")

# UTF-8, '#', '%' in the name: stored at the decoded name
r = a.get(UML)
ok(r.status == 200 and r.body == "\u00dcberpr\u00fcfung body".encode(),
   "UTF-8 name with '#' and '%': GET -> 200 with the body", "got %r" % r)
ok(wait_until(lambda: os.path.isfile(on_disk(UML)), 5),
   "UTF-8 name with '#' and '%': stored under its decoded name")

raw = m.requests("GET", path=UML)[-1]["raw_path"]
is_(urllib.parse.unquote(raw), UML, "upstream request path decodes to the "
    "document's name")
ok(" " not in raw and "#" not in raw and "?" not in raw
   and "%23" in raw and "%25" in raw and "%C3%9C" in raw.upper(),
   "upstream request path is percent-encoded (space, '#', '%', UTF-8)",
   "raw path: %r" % raw)

# --- rows 403 / 404 / 410: purge ----------------------------------------------
for code, path in sorted(GONE.items()):
    r = a.get(path)
    ok(r.status == 200
       and wait_until(lambda: os.path.isfile(on_disk(path)), 5),
       "precondition %s: file cached" % code, "got %r" % r)
    m.set_fault(code, path)
    r = a.get(path)
    is_(r.status, int(code), "upstream %s: the client gets %s" % (code, code))
    is_(r.header("X-Zddc-Cache"), "MISS", "upstream %s: X-Zddc-Cache: MISS"
        % code)
    ok(not os.path.lexists(on_disk(path)),
       "upstream %s: the local copy is purged" % code)
    check_log(a, path, 2, int(code), "MISS", "upstream %s" % code)
    if code == "403":
        raw = m.requests("GET", path=path)[-1]["raw_path"]
        ok("?" not in raw and "%3F" in raw.upper(),
           "a '?' in a name is sent upstream as %3F, not as a query",
           "raw path: %r" % raw)
m.clear_faults()

r = a.get(REMOVED)
ok(r.status == 200
   and wait_until(lambda: os.path.isfile(on_disk(REMOVED)), 5),
   "precondition: file cached before it is removed upstream")
m.remove(REMOVED)
r = a.get(REMOVED)
is_(r.status, 404, "file removed upstream: the client gets 404")
ok(not os.path.lexists(on_disk(REMOVED)),
   "file removed upstream: the local copy is purged")
ok(os.path.isfile(on_disk(SPEC)),
   "purging one file leaves its siblings in place")

# --- row 5xx with copy: STALE; without copy: 502 -------------------------------
m.set_fault("5xx", PROJ + "/")
r = a.get(UML)
ok(r.status == 200 and r.body == "\u00dcberpr\u00fcfung body".encode(),
   "upstream 503 with a cached copy: 200 with the cached body",
   "got %r" % r)
is_(r.header("X-Zddc-Cache"), "STALE", "upstream 503: X-Zddc-Cache: STALE")
ok(os.path.isfile(on_disk(UML)), "upstream 503: the cached copy is kept")
check_log(a, UML, 2, 200, "STALE", "upstream 503 with copy")
r = a.get(NEVER)
is_(r.status, 502, "upstream 503 without a cached copy: 502")
is_(r.header("X-Zddc-Cache"), "MISS", "upstream 503, no copy: X-Zddc-Cache: "
    "MISS")
ok(not os.path.lexists(on_disk(NEVER)), "upstream 503, no copy: nothing "
   "stored")
check_log(a, NEVER, 1, 502, "MISS", "upstream 503 without copy")
m.clear_faults()

# --- row timeout: STALE with copy, 504 without ---------------------------------
r = a.get(SLOWF)
ok(r.status == 200
   and wait_until(lambda: os.path.isfile(on_disk(SLOWF)), 5),
   "precondition: slow file cached")
m.set_fault("slow", SLOWF)
t = time.monotonic()
r = a.get(SLOWF, timeout=20)
took = time.monotonic() - t
ok(r.status == 200 and r.body == b"doc " + SLOWF.encode(),
   "upstream silent past ZddcUpstreamTimeout (2s) with a copy: 200 with the "
   "cached body", "got %r after %.1fs" % (r, took))
is_(r.header("X-Zddc-Cache"), "STALE", "upstream timeout: X-Zddc-Cache: STALE")
ok(took < 4.5, "upstream timeout: answered after about ZddcUpstreamTimeout "
   "(2s), before the master would answer (5s)", "took %.1fs" % took)
m.set_fault("slow", NEVER)
r = a.get(NEVER, timeout=20)
is_(r.status, 504, "upstream timeout without a cached copy: 504")
is_(r.header("X-Zddc-Cache"), "MISS", "upstream timeout, no copy: MISS")
m.clear_faults()

# --- row connect error: STALE with copy, 504 without ----------------------------
m.stop()
r = a.get(SPEC)
ok(r.status == 200 and r.body == BODY2,
   "master down, cached copy: 200 with the cached body", "got %r" % r)
is_(r.header("X-Zddc-Cache"), "STALE", "master down: X-Zddc-Cache: STALE")
check_log(a, SPEC, 4, 200, "STALE", "master down with copy")
is_(disk(SPEC), BODY2, "master down: the cached copy is kept")
r = a.get(NEVER)
is_(r.status, 504, "master down, no cached copy: 504")
is_(r.header("X-Zddc-Cache"), "MISS", "master down, no copy: X-Zddc-Cache: "
    "MISS")
check_log(a, NEVER, 3, 504, "MISS", "master down without copy")
ok(not os.path.lexists(on_disk(NEVER)), "master down, no copy: nothing stored")
m.start()
r = a.get(SPEC)
is_(r.header("X-Zddc-Cache"), "REVALIDATED",
    "master back: the next GET revalidates (REVALIDATED)")
a.stop()

# --- row not asked: HIT within ZddcCacheFreshness ---------------------------------
b = Apache(VHOST + "ZddcCacheFreshness 1h\n").start()
r = b.get(SPEC)
is_(r.header("X-Zddc-Cache"), "MISS", "freshness 1h: first GET is a MISS")
wait_until(lambda: os.path.isfile(os.path.join(b.cache, SPEC.lstrip("/"))), 5)
n = m.count(path=SPEC)
r = b.get(SPEC)
ok(r.status == 200 and r.body == BODY2,
   "freshness 1h: second GET -> 200 with the cached body", "got %r" % r)
is_(r.header("X-Zddc-Cache"), "HIT", "freshness 1h: X-Zddc-Cache: HIT")
is_(m.count(path=SPEC) - n, 0, "HIT: the master is not asked")
check_log(b, SPEC, 2, 200, "HIT", "HIT")
m.stop()
r = b.get(SPEC)
is_(r.header("X-Zddc-Cache"), "HIT",
    "freshness 1h: HIT even while the master is down (not asked)")
m.start()
b.stop()

c = Apache(VHOST + "ZddcCacheFreshness 1s\n").start()
c.get(SPEC)
wait_until(lambda: os.path.isfile(os.path.join(c.cache, SPEC.lstrip("/"))), 5)
c.wait_confirmed_for(SPEC, 1.0)
n = m.count(path=SPEC)
r = c.get(SPEC)
is_(r.header("X-Zddc-Cache"), "REVALIDATED",
    "freshness 1s: once it ran out the copy is revalidated again")
is_(m.count(path=SPEC) - n, 1, "freshness expired: one upstream request")
r = c.get(SPEC)
is_(r.header("X-Zddc-Cache"), "HIT",
    "freshness 1s: right after a revalidation the copy is fresh again (HIT)")
c.stop()

done_testing()
