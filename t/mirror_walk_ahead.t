#!/usr/bin/python3
# SPEC §6: a warm walk lists the directories the cache already holds ahead
# of their parents' listings, so it is bounded by its requests in flight
# (ZddcMirrorParallelism), not by the depth of the tree times the round
# trip. Nothing is done with a listing fetched ahead until the parent's own
# listing names that directory: a directory the master dropped, one that
# became a file, and the subtree of a directory whose listing failed are
# treated exactly as without the look ahead (purged once, left alone).
#
# Every answer of the master takes SLOW seconds. Before the look ahead, a
# warm walk asked for /A/c1/c2/c3/c4/ four answers after /A/ (one level per
# answer); now it asks for it at once.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
SLOW = 0.8
CHAIN = "/A/c1/c2/c3/c4/"

m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=SLOW)
m.put_file(CHAIN + "f.pdf", b"deep, first\n", mtime=T0)
m.put_file("/A/keep/k.pdf", b"kept\n", mtime=T0)
m.put_file("/A/gone/x/y/g.pdf", b"to be dropped by the master\n", mtime=T0)
m.put_file("/A/turns/z/t.pdf", b"a directory that becomes a file\n",
           mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /A
ZddcMirrorMinInterval 1h
ZddcMirrorParallelism 16
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
a.start()


def figures(line):
    found = re.search(r"(?:finished in|failed after) \S+: (.*)$", line)
    return dict(kv.split("=", 1) for kv in found.group(1).split()
                if "=" in kv) if found else {}


def report():
    r = a.get("/zddc-status", headers={"Accept": "application/json"})
    return r.json()["vhosts"][0]["subtrees"][0]["report"]


def listing_times():
    return dict((e["path"], e["time"]) for e in m.requests("GET")
                if e["path"].endswith("/"))


# 1: a cold walk: nothing cached, nothing to list ahead.
first = walk_now(a, "/A", "the cold walk")
is_(figures(first).get("errors"), "0", "the cold walk had no errors")
is_(a.disk(CHAIN + "f.pdf"), b"deep, first\n", "the deep file is mirrored")
ok(os.path.exists(a.on_disk("/A/gone/x/y/g.pdf"))
   and os.path.exists(a.on_disk("/A/turns/z/t.pdf")),
   "so are the directories the master changes next")

# 2: the master changes: a deep file rewritten, a directory dropped, one
# turned into a file; every answer is slow.
m.put_file(CHAIN + "f.pdf", b"deep, second revision\n", mtime=T0 + 60)
m.remove("/A/gone")
m.remove("/A/turns")
m.put_file("/A/turns", b"now a file\n", mtime=T0)
m.set_fault("slow", "/A/")
m.clear_log()
second = walk_now(a, "/A", "the warm walk", timeout=60)
f2 = figures(second)
t = listing_times()
ok("/A/" in t and CHAIN in t, "both the subtree's and the deepest "
   "directory's listings were asked for", sorted(t))
# Over https a session learns from its first answer whether the master
# speaks HTTP/1.1 (a connection per request) and opens at most two
# connections before; the cold walk's answer is remembered for the warm
# walk (in shared memory: it may run in another child), which does not
# wait. Level by level it was four answers.
if "/A/" in t and CHAIN in t:
    ok(t[CHAIN] - t["/A/"] < SLOW, "the deepest directory's listing was "
       "asked for before the subtree's own answer was in (%.3f s after it, "
       "an answer takes %.1f s; level by level, four answers)"
       % (t[CHAIN] - t["/A/"], SLOW))
ok(m.max_inflight <= 16, "never more than ZddcMirrorParallelism requests "
   "in flight (%d)" % m.max_inflight)
is_(a.disk(CHAIN + "f.pdf"), b"deep, second revision\n",
    "the deep file's new revision was fetched")
is_(f2.get("errors"), "0", "no errors: the listings asked for ahead of a "
    "dropped directory count for nothing")
is_(f2.get("dirs"), "6", "dirs counts the directories walked: /A/, "
    "c1 to c4 and keep")
ok(not os.path.exists(a.on_disk("/A/gone")), "the directory the master dropped is purged")
ok(not os.path.exists(a.on_disk("/A/turns/z")), "so is the directory that became a "
   "file")
rep = report()
is_(sorted(rep["purged"]), ["/A/gone", "/A/turns"], "each is purged once, "
    "by its parent's listing")
is_(rep["fetched"], [CHAIN + "f.pdf"], "the one changed file is fetched")
asked = dict((d, m.count("GET", path=d)) for d in (
    "/A/gone/", "/A/gone/x/", "/A/gone/x/y/", "/A/turns/", "/A/turns/z/"))
ok(all(n <= 1 for n in asked.values()), "what was listed ahead below them "
   "was asked for at most once each", asked)

# 3: the file that replaced the directory arrives with the next walk.
m.clear_faults()
third = walk_now(a, "/A", "the next walk")
is_(figures(third).get("errors"), "0", "no errors")
is_(a.disk("/A/turns"), b"now a file\n", "the new file is mirrored")

# 4: a parent whose listing fails: what below it was listed ahead is left
# alone, as without the look ahead (a changed file there is not fetched,
# nothing there is purged).
m.remove(CHAIN + "f.pdf")
m.put_file("/A/c1/c2/c3/new.pdf", b"new\n", mtime=T0)
m.set_fault("5xx", "/A/c1/")
m.set_fault("slow", "/A/c1/c2/")
m.clear_log()
fourth = walk_now(a, "/A", "the walk with a failing listing", timeout=60)
is_(figures(fourth).get("errors"), "1", "one error: the listing of /A/c1/")
ok(m.count("GET", path="/A/c1/c2/") >= 1, "the listing of /A/c1/c2/ was "
   "asked for ahead of its parent's")
is_(a.disk(CHAIN + "f.pdf"), b"deep, second revision\n",
    "below the failed listing nothing is purged")
ok(not os.path.exists(a.on_disk("/A/c1/c2/c3/new.pdf")), "nor fetched")
is_(report()["purged"], [], "the walk purged nothing")

a.stop()
done_testing()
