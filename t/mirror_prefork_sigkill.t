#!/usr/bin/python3
# Mirror mode under prefork (SPEC §4, §6): SIGKILL of the child running a walk
# mid-download leaves no torn file at the target path; the dead walk does not
# block the subtree: a later access walks again in another process, finishes,
# publishes the whole file, and leaves no .zddc-cache-tmp-* behind.
import glob
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
DOCS = "/Docs"
BIG = DOCS + "/123456-EL-DWG-0001_B (IFC) - Layout #1.pdf"
BIG_BODY = bytes(range(256)) * 800        # 204800 bytes, > drip head (1 KiB)
INTERVAL = 5
SMALL = {DOCS + "/a.pdf": b"a" * 300, DOCS + "/sub/b.pdf": b"b" * 300}

m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=60)
m.put_file(BIG, BIG_BODY, mtime=T0)
for path, data in SMALL.items():
    m.put_file(path, data, mtime=T0)
m.set_fault("drip", BIG)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree %s
ZddcMirrorMinInterval %ds
<Location /zddc-status>
    SetHandler zddc-status
</Location>
""" % (DOCS, INTERVAL)), mpm="prefork")
a.start()
ok(a.wait_log(r"mpm_prefork:notice", 10), "running under the prefork MPM")


def in_flight():
    r = a.get("/zddc-status", headers={"Accept": "application/json"})
    return r.json()["vhosts"][0]["subtrees"][0]["in_flight"]


def temps():
    return glob.glob(os.path.join(a.cache + DOCS, ".zddc-cache-tmp-*"))


def size(path):
    """A temp's size, 0 once it is gone (a put's temp lives a moment)."""
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def all_temps():
    return [os.path.join(d, n) for d, _, names in os.walk(a.cache)
            for n in names if n.startswith(".zddc-cache-tmp-")]


def queued():
    return re.findall(r"walk of /Docs queued in process (\d+)",
                      a.error_log())


is_(a.get(DOCS + "/a.pdf").status, 200, "the triggering request is served")
live = wait_until(in_flight, 10, 0.1)
ok(live, "a walk is in flight", a.error_log_tail())
victim = live["pid"] if live else None
ok(victim in a.child_pids(), "it runs in a child process of the server",
   "pid %r, children %r" % (victim, a.child_pids()))
ok(wait_until(lambda: [t for t in temps() if size(t) > 0], 10),
   "the walk is part-way through downloading the big file into a temp",
   temps())
ok(not os.path.exists(a.cache + BIG), "nothing is published at the target "
   "path mid-download")

for _ in range(3):
    a.get(DOCS + "/a.pdf")
is_(len(queued()), 1, "while the walker lives, accesses start no second walk")

# The temp(s) the walk is writing, by inode: a killed writer's leftovers.
killed_temps = set(os.stat(t).st_ino for t in temps())
if victim:
    os.kill(victim, signal.SIGKILL)
ok(wait_until(lambda: victim not in a.child_pids(), 5), "the walking child "
   "is gone")
ok(not os.path.exists(a.cache + BIG), "the killed walk left no torn file at "
   "the target path")
m.clear_faults()


def taken_over():
    a.get(DOCS + "/a.pdf")
    return len(queued()) >= 2


ok(wait_until(taken_over, 20, 0.3), "after the walker died, a later access "
   "starts a new walk", a.error_log_tail())
pids = [int(p) for p in queued()]
is_(len(pids), 2, "exactly one new walk")
ok(len(pids) == 2 and pids[1] != victim and pids[1] in a.child_pids(),
   "in another, live process", "queued in %r, victim %r, children %r"
   % (pids, victim, a.child_pids()))
done = a.wait_log(r"walk of /Docs finished in \S+: (.*)$", 20)
finish_time = time.time()
ok(done, "the new walk finishes", a.error_log_tail())
like(done.group(1) if done else "", r"errors=0", "without errors")
unlike(a.error_log(), r"walk of /Docs (aborted|failed)",
       "no aborted or failed walk reported")

ok(os.path.isfile(a.cache + BIG), "the big file is published")
if os.path.isfile(a.cache + BIG):
    with open(a.cache + BIG, "rb") as f:
        got = f.read()
    ok(got == BIG_BODY, "with its full content (%d bytes)" % len(BIG_BODY),
       "got %d bytes" % len(got))
    is_(int(os.stat(a.cache + BIG).st_mtime), T0, "and the upstream mtime")
for path, data in SMALL.items():
    ok(os.path.isfile(a.cache + path), "mirrored: %s" % path)
still = [t for t in all_temps() if os.stat(t).st_ino in killed_temps]
is_(still, [], "the killed walk's temp is gone once the new walk published "
    "its target")
is_(all_temps(), [], "no .zddc-cache-tmp-* is left anywhere in the cache "
    "root after the walk finished")

with open(os.path.join(a.cache, ".zddc-mirror-state.json")) as f:
    state = json.load(f)
like(state["subtrees"]["/Docs"]["last_walk_at"],
     r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", "last_walk_at is recorded")
is_(in_flight(), None, "no walk in flight any more")
a.get(DOCS + "/a.pdf")
# A walk is queued (and logged) in the request's fixups, before its
# response: every trigger above has logged by now, nothing to wait for.
is_(len(queued()), 2, "and no further walk within the interval")

# A crash leftover is removed later: an old, unheld temp is swept when the
# walker next works in its directory.
planted = os.path.join(a.cache + DOCS, "sub", ".zddc-cache-tmp-left-by-crash")
with open(planted, "wb") as f:
    f.write(b"partial bytes of a dead download")
old = time.time() - 600
os.utime(planted, (old, old))
# Changed upstream now: its listing's Last-Modified moves on too.
m.put_file(DOCS + "/sub/b.pdf", b"B" * 400, mtime=int(time.time()))
ok(wait_until(lambda: time.time() - finish_time >= INTERVAL + 0.2, INTERVAL
              + 5), "the interval has passed")


def third():
    a.get(DOCS + "/a.pdf")
    return len(queued()) >= 3


ok(wait_until(third, 10, 0.3), "an access after the interval walks again")
ok(wait_until(lambda: len(re.findall(r"walk of /Docs finished",
                                     a.error_log())) >= 2, 15),
   "that walk finishes", a.error_log_tail())
with open(a.cache + DOCS + "/sub/b.pdf", "rb") as f:
    is_(f.read(), b"B" * 400, "it refreshed the changed file")
ok(not os.path.exists(planted), "an old crash leftover temp in a walked "
   "directory is removed")
is_(all_temps(), [], "no .zddc-cache-tmp-* anywhere in the cache root")

done_testing()
