#!/usr/bin/python3
# Mirror mode (SPEC §5, §6.2): when a walk's conditional GET of a file is
# answered 200 with Cache-Control: no-store, the copy kept from before is
# purged (counted as purged), so it can never be served stale later; a
# listing answered no-store drops its kept sidecar the same way.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
SECRET = "/Docs/secret (draft).pdf"
KEEP = "/Docs/keep.pdf"
DRAFTS = "/Docs/Drafts"
PLAN = DRAFTS + "/plan.pdf"

m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file(KEEP, b"k" * 100, mtime=T0)
m.put_file(SECRET, b"s" * 200, mtime=T0)
m.put_file(PLAN, b"p" * 50, mtime=T0)
m.set_mtime(DRAFTS, T0)
m.set_mtime("/Docs", T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1s
"""))
a.start()


def walks():
    return re.findall(r"walk of /Docs finished in \S+: (.*)", a.error_log())


def figures(line):
    return dict(kv.split("=", 1) for kv in line.split()) if line else {}


a.get("/Docs/")
ok(wait_until(lambda: len(walks()) == 1, 15), "first walk ran",
   a.error_log_tail())
ok(os.path.isfile(a.cache + SECRET), "the first walk mirrored the file")
side = a.cache + DRAFTS + "/.zddc-listing.json"
ok(os.path.isfile(side), "and kept the listing of %s" % DRAFTS)

# The master now forbids keeping the file (changed, so the walk's
# conditional GET gets a 200) and the Drafts listing.
m.put_file(SECRET, b"S" * 250, mtime=T0 + 100)
m.no_store.add(SECRET)
m.set_mtime(DRAFTS, T0 + 100)
m.no_store.add(DRAFTS + "/")

m.clear_log()
a.walk_when_due("/Docs", "/Docs/")
ok(wait_until(lambda: len(walks()) == 2, 15), "second walk ran",
   a.error_log_tail())
f = figures(walks()[-1] if len(walks()) == 2 else "")
is_(f.get("purged"), "1", "the no-store file counts as purged")
is_(f.get("fetched"), "0", "nothing was stored")
is_(f.get("errors"), "0", "no errors")
is_(m.count("GET", path=SECRET), 1, "the walk asked for the file once")
ok(not os.path.exists(a.cache + SECRET),
   "the copy kept from before is gone from the cache")
like(a.error_log(), r"walk of /Docs: purged /Docs/secret \(draft\)\.pdf: "
     r"the upstream answered Cache-Control: no-store",
     "the purge is logged with its reason")
ok(not os.path.exists(side), "the no-store listing's kept sidecar is gone")
ok(os.path.isfile(a.cache + PLAN), "files under that listing stay mirrored")
ok(os.path.isfile(a.cache + KEEP), "other files stay mirrored")

# With the master away, the file is not served from a stale copy.
m.stop()
r = a.get(SECRET)
isnt(r.status, 200, "with the master down the purged file is not served "
     "stale (got %d)" % r.status)

done_testing()
