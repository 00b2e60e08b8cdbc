#!/usr/bin/python3
# SPEC §5, issue 8 #9: a forwarded response keeps the headers its status
# needs: Content-Range on a 206 (the client's Range was forwarded), Allow
# on a 405, Location on a 3xx rewritten to this host; WWW-Authenticate
# never reaches the client.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
DOC = "/Project 123456/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
m = master()
m.put_file(DOC, b"%PDF-1.4 spec", mtime=T0)
a = Apache(cache_conf(m, "ZddcForwardWrites On\n")).start()

r = a.get(DOC, query="rev=A", headers={"Range": "bytes=0-4"})
is_((r.status, r.header("X-Zddc-Cache")), (206, "BYPASS"),
    "a ranged query request is forwarded and answered 206")
like(r.header("Content-Range", ""), r"^bytes 0-4/\d+$",
     "the 206 keeps its Content-Range")
is_(r.text, "query", "with the range's bytes")

m.set_fault("405", DOC)
r = a.request("PATCH", DOC, body=b"x")
is_(r.status, 405, "the master's 405 to a forwarded write reaches the client")
is_(r.header("Allow"), "GET, HEAD", "with the master's Allow")
m.clear_faults()

m.set_fault("302", DOC)
r = a.get(DOC, query="rev=B")
is_(r.status, 302, "the master's redirect is passed on")
is_(r.header("Location"), a.url(DOC) + ".moved",
    "its Location points at this host")
m.clear_faults()

m.set_fault("401", DOC)
r = a.request("PUT", DOC, body=b"x")
is_(r.status, 502, "the master's 401 (the mirror's token) is a 502")
is_(r.header("WWW-Authenticate"), None, "and never carries its challenge")
m.clear_faults()

done_testing()
