#!/usr/bin/python3
# Cache pipeline (SPEC §5): an upstream 200 without Last-Modified is stored
# but marked as having no validator: it is never answered 304 on a made-up
# date, and the next request fetches it unconditionally.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from fake_master import http_date  # noqa: E402

m = master()
m.put_file("/undated.pdf", b"version 1", mtime=1700000000)
m.no_last_modified.add("/undated.pdf")

a = Apache(cache_conf(m))
a.start()

r = a.get("/undated.pdf")
ok(r.status == 200 and r.body == b"version 1", "first GET served")
is_(r.header("Last-Modified"), None, "no Last-Modified made up for it")
ok(os.path.isfile(a.on_disk("/undated.pdf")), "the copy is stored")

m.clear_log()
m.put_file("/undated.pdf", b"version 2", mtime=1700000000)
r = a.get("/undated.pdf")
ok(r.status == 200 and r.body == b"version 2",
   "the next request gets the master's current bytes", r.body)
reqs = m.requests("GET", path="/undated.pdf")
ok(reqs and not reqs[-1]["headers"].get("if-modified-since"),
   "asked unconditionally", reqs and reqs[-1]["headers"])

r = a.get("/undated.pdf",
          headers={"If-Modified-Since": http_date(2000000000)})
is_(r.status, 200, "a client's If-Modified-Since is never answered 304")
is_(r.header("Last-Modified"), None, "nor is a date sent for the copy")

done_testing()
