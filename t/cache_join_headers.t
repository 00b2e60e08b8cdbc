#!/usr/bin/python3
# Cache pipeline (SPEC §5): a client that joins a download in progress gets
# the validators the first client got: Last-Modified (the master's) and
# Content-Length, so a lower-tier mirror can store and revalidate it.
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from fake_master import http_date  # noqa: E402

T0 = 1700000000
m = master(slow_seconds=3)
body = b"x" * 200000
m.put_file("/doc.pdf", body, mtime=T0)
m.set_fault("drip", "/doc.pdf")      # 1 KiB, a pause, then the rest

a = Apache(cache_conf(m))
a.start()

first = {}


def get_first():
    first["r"] = a.get("/doc.pdf", timeout=30)


t = threading.Thread(target=get_first)
t.start()
tmp_dir = os.path.dirname(a.on_disk("/doc.pdf"))
ok(wait_until(lambda: any(n.startswith(".zddc-cache-tmp-")
                          and os.path.getsize(os.path.join(tmp_dir, n)) > 0
                          for n in os.listdir(tmp_dir)), 10),
   "the first client's download is in progress")
r = a.get("/doc.pdf", timeout=30)
t.join(30)
is_(r.status, 200, "the joining client gets 200")
is_(r.header("Last-Modified"), http_date(T0),
    "and the master's Last-Modified")
is_(r.header("Content-Length"), str(len(body)), "and Content-Length")
ok(r.body == body, "and the whole body")
is_(m.count("GET", path="/doc.pdf"), 1, "one upstream download")
f = first.get("r")
ok(f is not None and f.status == 200 and f.body == body,
   "the first client got it whole too")
is_(f.header("Last-Modified") if f else None, http_date(T0),
    "with Last-Modified")

done_testing()
