#!/usr/bin/python3
# SPEC §5/§8, issue 8 #1: TRACE is Apache's own (TraceEnable) and is never
# forwarded upstream, so a master that reflects TRACE (stock Apache does)
# can never hand the mirror's bearer to a local user; under both MPMs.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

TOKEN = "trace-Bearer-5e1f0a"
DOC = "/Project 123456/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"

m = master(acl={TOKEN: ["/"]})
m.put_file(DOC, b"%PDF-1.4 spec", mtime=1700000000)

for mpm in ("event", "prefork"):
    for trace in ("On", "Off", "extended"):
        a = Apache(cache_conf(m, "TraceEnable %s\n" % trace, token=TOKEN),
                   mpm=mpm).start()
        m.clear_log()
        for path in (DOC, "/Project 123456/", "/not/cached.pdf"):
            r = a.request("TRACE", path, headers={"X-Probe": "p1"})
            what = "%s TraceEnable %s TRACE %s" % (mpm, trace, path)
            ok(TOKEN not in r.text and TOKEN not in str(r.headers),
               what + ": the bearer is not in the answer")
            if trace == "Off":
                is_(r.status, 405, what + ": 405 (TraceEnable Off)")
            else:
                is_(r.status, 200, what + ": answered by Apache itself")
                like(r.text, r"X-Probe: p1", what + ": Apache echoes the "
                     "client's own request")
        is_(m.count("TRACE"), 0, "%s TraceEnable %s: no TRACE ever reaches "
            "the master" % (mpm, trace))
        a.stop()

done_testing()
