#!/usr/bin/python3
# Mirror mode (SPEC §6.3): a file the upstream no longer lists is purged from
# the cache by the next walk; listed files, sidecars and the marker stay.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/keep.pdf", b"keep", mtime=T0)
m.put_file("/Docs/gone.pdf", b"gone", mtime=T0)
m.put_file("/Docs/sub/gone too.pdf", b"gone too", mtime=T0)
m.put_file("/Docs/sub/keep too.pdf", b"keep too", mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 500ms
"""))
a.start()


def walks():
    return re.findall(r"walk of /Docs finished in \S+: (.*)", a.error_log())


a.get("/Docs/")
ok(wait_until(lambda: len(walks()) == 1, 15), "first walk ran")
for p in ("/Docs/gone.pdf", "/Docs/sub/gone too.pdf"):
    ok(os.path.isfile(a.cache + p), "first walk cached %s" % p)

m.remove("/Docs/gone.pdf")
m.remove("/Docs/sub/gone too.pdf")
a.walk_when_due("/Docs", "/Docs/")
ok(wait_until(lambda: len(walks()) == 2, 15), "second walk ran",
   a.error_log_tail())
like(walks()[-1] if walks() else "", r"purged=2 errors=0",
     "second walk reports two purged entries")
for p in ("/Docs/gone.pdf", "/Docs/sub/gone too.pdf"):
    ok(not os.path.exists(a.cache + p), "orphan purged: %s" % p)
for p in ("/Docs/keep.pdf", "/Docs/sub/keep too.pdf",
          "/Docs/.zddc-listing.json", "/Docs/sub/.zddc-listing.json",
          "/.zddc-cache", "/.zddc-mirror-state.json"):
    ok(os.path.isfile(a.cache + p), "still there: %s" % p)
like(a.error_log(), r"walk of /Docs: purged /Docs/gone\.pdf",
     "each purge is logged")

done_testing()
