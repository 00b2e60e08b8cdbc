#!/usr/bin/python3
# SPEC §5 streaming: a MISS reaches the client before the upstream finishes;
# a transfer broken mid-body aborts the client and never leaves a truncated
# or temp file; concurrent misses of one URL make one upstream download.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
T1 = T0 + 86400
TRN = "/Project 123456/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
DRIP = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
TRUNC = TRN + "/123456-ME-DWG-0101_B (IFC) - Pump Skid GA #2.pdf"
KEEP = TRN + "/123456-EL-LST-0003_A (IFR) - Kabelliste \u00dcbersicht.pdf"
BIG = TRN + "/123456-ME-CAL-0007_0 (IFI) - Pump Sizing (100% load).pdf"
STALL = TRN + "/123456-ME-CAL-0008_0 (IFI) - Stalled #1.pdf"
SLOW = 3.0


def payload(tag, n):
    chunk = ("%s " % tag).encode() + bytes(range(256))
    return (chunk * (n // len(chunk) + 1))[:n]


D_BODY = payload("drip", 256 * 1024)
T_BODY = payload("trunc", 200 * 1024)
K_OLD = payload("keep-old", 100 * 1024)
K_NEW = payload("keep-new", 120 * 1024)
B_BODY = payload("big", 2 * 1024 * 1024)
S_BODY = payload("stall", 64 * 1024)

m = master()
m.slow_seconds = SLOW
m.put_file(DRIP, D_BODY, mtime=T0)
m.put_file(TRUNC, T_BODY, mtime=T0)
m.put_file(KEEP, K_OLD, mtime=T0)
m.put_file(BIG, B_BODY, mtime=T0)
m.put_file(STALL, S_BODY, mtime=T0)

a = Apache(cache_conf(m)).start()
on_disk, disk = a.on_disk, a.disk


def tmp_leftovers():
    found = []
    for dirpath, dirs, files in os.walk(a.cache):
        found += [os.path.join(dirpath, n) for n in files + dirs
                  if n.startswith(".zddc-cache-tmp-")]
    return found


# --- MISS is streamed ---------------------------------------------------------
m.set_fault("drip", DRIP)
t = time.monotonic()
resp = a.stream(DRIP, timeout=20)
first = resp.read(1024)
t_first = time.monotonic() - t
rest = resp.read()
t_all = time.monotonic() - t
resp.conn.close()
is_(resp.status, 200, "drip MISS: status 200")
is_(first, D_BODY[:1024], "drip MISS: the first 1024 bytes are the document's")
ok(t_first < SLOW - 1.0,
   "drip MISS: the first KiB reaches the client before the master finishes "
   "(< %.1fs)" % (SLOW - 1.0), "first KiB after %.2fs" % t_first)
ok(t_all >= SLOW - 0.5, "drip MISS: the rest only arrives after the master's "
   "pause (sanity)", "whole body after %.2fs" % t_all)
ok(first + rest == D_BODY, "drip MISS: the whole body is delivered intact",
   "got %d of %d bytes" % (len(first + rest), len(D_BODY)))
ok(wait_until(lambda: disk(DRIP) == D_BODY, 5),
   "drip MISS: the complete file is stored once the transfer ends")
is_(int(os.stat(on_disk(DRIP)).st_mtime), T0,
    "drip MISS: stored with the upstream mtime")
m.clear_faults()

# --- broken transfer, no previous copy ----------------------------------------------
m.set_fault("truncate", TRUNC)
r = a.get(TRUNC, timeout=20)
ok(r.incomplete or len(r.body) < len(T_BODY),
   "truncated upstream body: the client's response is incomplete (connection "
   "aborted, not a short 'complete' body)",
   "got %r, %d of %d bytes" % (r, len(r.body), len(T_BODY)))
ok(r.status != 200 or r.incomplete,
   "truncated upstream body: a 200 is never completed cleanly",
   "got %r" % r)
# The module ends its temp (rename or unlink) after the client's aborted end.
wait_until(lambda: not tmp_leftovers(), 10)
ok(not os.path.lexists(on_disk(TRUNC)),
   "truncated upstream body, no previous copy: nothing stored at the path")
is_(tmp_leftovers(), [], "truncated upstream body: no .zddc-cache-tmp-* left")
m.clear_faults()
r = a.get(TRUNC)
ok(r.status == 200 and r.body == T_BODY and not r.incomplete,
   "after the fault clears: GET -> full body", "got %r" % r)
ok(wait_until(lambda: disk(TRUNC) == T_BODY, 5),
   "after the fault clears: the complete file is stored")

# --- broken transfer keeps the previous good copy -------------------------------------
r = a.get(KEEP)
ok(r.status == 200 and wait_until(lambda: disk(KEEP) == K_OLD, 5),
   "precondition: old copy cached")
m.put_file(KEEP, K_NEW, mtime=T1)
m.set_fault("truncate", KEEP)
r = a.get(KEEP, timeout=20)
ok(r.incomplete or (r.status == 200 and len(r.body) < len(K_NEW)),
   "truncated replacement: the client's response is incomplete",
   "got %r" % r)
ok(r.body != K_NEW, "truncated replacement: the client never gets a "
   "complete-looking new body")
wait_until(lambda: not tmp_leftovers(), 10)
ok(disk(KEEP) == K_OLD, "truncated replacement: the previous copy is "
   "unchanged on disk", "on disk %d bytes" % len(disk(KEEP) or b""))
is_(int(os.stat(on_disk(KEEP)).st_mtime), T0,
    "truncated replacement: the previous copy keeps its mtime")
is_(tmp_leftovers(), [], "truncated replacement: no .zddc-cache-tmp-* left")
m.clear_faults()
r = a.get(KEEP)
ok(r.status == 200 and r.body == K_NEW,
   "after the fault clears: the new version is served", "got %r" % r)

# --- a transfer that stalls ZddcUpstreamTimeout is aborted ----------------------------
b = Apache(cache_conf(m, "ZddcUpstreamTimeout 1s\n")).start()
b_disk = os.path.join(b.cache, STALL.lstrip("/"))
m.slow_seconds = 8.0
m.set_fault("drip", STALL)
t = time.monotonic()
r = b.get(STALL, timeout=20)
took = time.monotonic() - t
ok(r.incomplete or len(r.body) < len(S_BODY),
   "upstream stalls after 1 KiB (timeout 1s): the client's response is "
   "incomplete", "got %r" % r)
ok(took < 4.0, "stalled upstream: the transfer is aborted about "
   "ZddcUpstreamTimeout (1s) after the last byte (< 4s; the master would "
   "resume at 8s)", "took %.1fs" % took)
wait_until(lambda: not (os.path.isdir(os.path.dirname(b_disk)) and [
    n for n in os.listdir(os.path.dirname(b_disk))
    if n.startswith(".zddc-cache-tmp-")]), 10)
ok(not os.path.lexists(b_disk), "stalled upstream: nothing stored")
ok(not [n for n in os.listdir(os.path.dirname(b_disk))
        if n.startswith(".zddc-cache-tmp-")]
   if os.path.isdir(os.path.dirname(b_disk)) else True,
   "stalled upstream: no .zddc-cache-tmp-* left")
m.clear_faults()
b.stop()
m.slow_seconds = SLOW

# --- concurrent misses: one upstream download ------------------------------------------
m.slow_seconds = 2.0
m.set_fault("drip", BIG)
m.clear_log()
N = 8
t = time.monotonic()
results = at_once(N, lambda i: a.get(BIG, timeout=30), join=40)
took = time.monotonic() - t
m.clear_faults()
is_(m.count("GET", path=BIG), 1,
    "%d concurrent misses of one 2 MiB file: the master saw exactly 1 GET" % N)
statuses = [getattr(x, "status", repr(x)) for x in results]
is_(statuses, [200] * N, "%d concurrent misses: every client got 200" % N)
ok(all(isinstance(x, Response) and x.body == B_BODY and not x.incomplete
       for x in results),
   "%d concurrent misses: every client got the full identical body" % N,
   repr(results))
ok(wait_until(lambda: disk(BIG) == B_BODY, 5),
   "concurrent misses: the file is stored once, complete")
ok(took < 15, "concurrent misses finish in bounded time", "took %.1fs" % took)
is_(tmp_leftovers(), [], "concurrent misses: no .zddc-cache-tmp-* left")

done_testing()
