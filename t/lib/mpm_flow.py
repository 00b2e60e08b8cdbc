# The Cache-mode flow every MPM must pass, shared by t/mpm_event.t and
# t/mpm_prefork.t: MISS -> REVALIDATED -> STALE, listings, one download for
# concurrent misses, upstream keep-alive.
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zddc_test import *  # noqa: E402,F401,F403

MAX_PROCS = 8          # ServerLimit of the harness's MPM settings


def run_mpm_flow(MPM):
    T0 = 1700000000
    PROJ = "/Project 123456"
    TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
    SPEC = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
    BIG = TRN + "/123456-ME-CAL-0007_0 (IFI) - Pump Sizing #2 (100% load).pdf"
    BODY = b"%PDF-1.4 pump spec\n" + bytes(range(256)) * 30
    B_BODY = (b"big " + bytes(range(256))) * 4000

    m = master()
    m.put_file(SPEC, BODY, mtime=T0)
    m.put_file(BIG, B_BODY, mtime=T0)
    m.set_mtime(TRN, T0)

    a = Apache("""\
    ZddcMode Cache
    ZddcUpstream %s
    ZddcUpstreamBearer test-token
    ZddcCacheRoot {cache}
    """ % m.base_url, mpm=MPM).start()
    ok(a.wait_log(r"mpm_%s:notice" % MPM), "running under the %s MPM" % MPM,
       a.error_log_tail(5))
    on_disk = a.on_disk


    # --- MISS -> REVALIDATED -> STALE -> REVALIDATED ------------------------------
    r = a.get(SPEC)
    ok(r.status == 200 and r.body == BODY and r.header("X-Zddc-Cache") == "MISS",
       "%s: first GET -> 200 MISS with the body" % MPM, "got %r" % r)
    ok(wait_until(lambda: os.path.isfile(on_disk(SPEC)), 5),
       "%s: MISS stored the file" % MPM)
    r = a.get(SPEC)
    ok(r.status == 200 and r.body == BODY
       and r.header("X-Zddc-Cache") == "REVALIDATED",
       "%s: second GET -> 200 REVALIDATED" % MPM, "got %r" % r)
    m.stop()
    r = a.get(SPEC)
    ok(r.status == 200 and r.body == BODY and r.header("X-Zddc-Cache") == "STALE",
       "%s: master down -> 200 STALE with the cached body" % MPM, "got %r" % r)
    r = a.get(TRN + "/other.pdf")
    is_(r.status, 504, "%s: master down, uncached -> 504" % MPM)
    m.start()
    r = a.get(SPEC)
    is_(r.header("X-Zddc-Cache"), "REVALIDATED",
        "%s: master back -> REVALIDATED" % MPM)
    r = a.get(TRN + "/", headers={"Accept": "application/json"})
    ok(r.status == 200 and r.header("X-Zddc-Cache") == "MISS"
       and os.path.isfile(os.path.join(on_disk(TRN), ".zddc-listing.json")),
       "%s: JSON listing MISS stored as sidecar" % MPM, "got %r" % r)

    # --- graceful and hard restarts keep the pipeline working ------------------------
    a.graceful()
    r = a.get(SPEC)
    ok(r.status == 200 and r.body == BODY
       and r.header("X-Zddc-Cache") == "REVALIDATED",
       "%s: after a graceful restart: REVALIDATED from the same cache" % MPM,
       "got %r" % r)
    a.restart_hard()
    r = a.get(SPEC)
    ok(r.status == 200 and r.body == BODY
       and r.header("X-Zddc-Cache") == "REVALIDATED",
       "%s: after a hard restart: REVALIDATED from the same cache" % MPM,
       "got %r" % r)
    r = a.get(TRN + "/fresh after restart.pdf")
    is_(r.status, 404, "%s: after restarts an upstream 404 is still passed on"
        % MPM)

    # --- concurrent misses across processes/threads: one download
    m.slow_seconds = 2.0
    m.set_fault("drip", BIG)
    m.clear_log()
    N = 6
    results = at_once(N, lambda i: a.get(BIG, timeout=30), join=40)
    m.clear_faults()
    is_(m.count("GET", path=BIG), 1,
        "%s: %d concurrent misses -> exactly 1 upstream GET" % (MPM, N))
    ok(all(isinstance(x, Response) and x.status == 200 and x.body == B_BODY
           for x in results),
       "%s: every concurrent client got the full body" % MPM, repr(results))

    # --- upstream keep-alive ------------------------------------------------------------
    wait_until(lambda: m.inflight == 0, 10)
    m.clear_log()
    with a.client() as c:
        got = [c.get(SPEC) for _ in range(20)]
    ok(all(x.status == 200 and x.header("X-Zddc-Cache") == "REVALIDATED"
           for x in got),
       "%s: 20 keep-alive requests all REVALIDATED" % MPM,
       repr([(x.status, x.header("X-Zddc-Cache")) for x in got]))
    is_(m.count("GET", path=SPEC), 20, "%s: 20 upstream revalidations" % MPM)
    ok(m.connections <= 2,
       "%s: 20 requests through one mirror child -> at most 2 new master "
       "connections" % MPM, "connections: %d" % m.connections)

    m.clear_log()
    for _ in range(20):
        a.get(SPEC)
    is_(m.count("GET", path=SPEC), 20,
        "%s: 20 requests on fresh client connections reach the master" % MPM)
    ok(m.connections <= MAX_PROCS and m.connections <= 10,
       "%s: 20 requests on fresh client connections -> at most one new master "
       "connection per child (<= %d), far fewer than 20" % (MPM, MAX_PROCS),
       "connections: %d, children now: %d" % (m.connections,
                                              len(a.child_pids())))

    done_testing()
