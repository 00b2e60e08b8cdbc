#!/usr/bin/python3
# SPEC §5: concurrent misses of a file the master will not let us keep (404,
# Cache-Control: no-store) each get the master's answer, never a 502.
import collections
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from zddc_test import *  # noqa: E402,F403

N = 8
m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=0.5)
m.put_file("/Project 123456/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf",
           b"%PDF-1.4 pump spec " * 500)
m.no_store.add("/Project 123456/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf")
m.set_fault("slow", "/Project 123456/")


def burst(a, path):
    def one(i):
        r = a.get(path, timeout=30)
        return (r.status, len(r.body))
    return collections.Counter(at_once(N, one))


for mpm in ("event", "prefork"):
    a = Apache(cache_conf(m, token="tok"), mpm=mpm)
    a.start()
    got = burst(a, "/Project 123456/123456-EL-TRN-0001 (IFR) - missing.pdf")
    is_(sorted(s for s, _ in got.elements()), [404] * N,
        "%s: %d concurrent misses of a missing file all get 404" % (mpm, N))
    size = len(m.read_file("/Project 123456/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"))
    got = burst(a, "/Project 123456/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf")
    is_(dict(got), {(200, size): N},
        "%s: %d concurrent misses of a no-store file all get the whole body" % (mpm, N))
    ok(not os.path.exists(a.cache + "/Project 123456/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"),
       "%s: and the no-store file is not stored" % mpm)
    a.stop()
    m.clear_log()
done_testing()
