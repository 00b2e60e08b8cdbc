#!/usr/bin/python3
# Mirror mode (SPEC §6 trigger): once ZddcMirrorMinInterval has passed since
# the end of the last walk, the next request walks again and picks up changes.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/spec.pdf", b"revision A", mtime=T0)
m.put_file("/Docs/other.pdf", b"other", mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 2s
"""))
a.start()


def finished():
    return len(re.findall(r"walk of /Docs finished", a.error_log()))


a.get("/Docs/")
ok(wait_until(lambda: finished() == 1, 15), "first walk ran")
m.put_file("/Docs/spec.pdf", b"revision B, longer", mtime=T0 + 100)
m.put_file("/Docs/new.pdf", b"new", mtime=T0 + 100)

a.get("/Docs/")
# A walk is queued (and logged) in the request's fixups, before its response.
is_(len(re.findall(r"walk of /Docs queued", a.error_log())), 1,
    "a request within the interval queues no walk")
is_(finished(), 1, "a request within the interval walks nothing")

a.walk_when_due("/Docs", "/Docs/")
ok(wait_until(lambda: finished() == 2, 15), "a request after the interval "
   "walks again", a.error_log_tail())
with open(a.cache + "/Docs/spec.pdf", "rb") as f:
    is_(f.read(), b"revision B, longer", "the changed file was refreshed")
is_(int(os.stat(a.cache + "/Docs/spec.pdf").st_mtime), T0 + 100,
    "with the new Last-Modified")
ok(os.path.isfile(a.cache + "/Docs/new.pdf"), "the new file was fetched")
like(a.error_log(), r"walk of /Docs finished in \S+: dirs=1 files=3 "
     r"fetched=2 skipped=1 ", "second walk: 2 fetched, 1 unchanged")

done_testing()
