#!/usr/bin/python3
# SPEC §6, issue 9: a walk reuses its threads. With ZddcMirrorParallelism P
# a walk runs at most 2P pool threads, plus its own thread and the
# session's loop thread; each of those is started once per walk, not once
# per task (apr's thread pool keeps no idle thread unless told to, and then
# every listing or batch of files started a thread of its own: 864 clone3
# calls in a warm walk of 501 directories). strace -f on the one child
# counts the threads it starts (clone/clone3) during a cold walk and a warm
# one of DIRS directories: a small bound that does not grow with DIRS. The
# warm walk is where a thread per task shows most (its tasks are short, so
# the pool's queue runs dry between them and each idle thread exited).
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

if not shutil.which("strace"):
    skip_all("strace is not installed")

T0 = 1700000000
DIRS, PER_DIR, PAR = 48, 3, 4
BOUND = 2 * PAR + 4             # pool threads, the walk, its session, slack
SUB = "/W"

m = master(acl={"tok": ["/"]}, bearer="tok")
for d in range(DIRS):
    for f in range(PER_DIR):
        m.put_file("%s/d%02d/f%d.pdf" % (SUB, d, f), b"%d.%d\n" % (d, f) * 20,
                   mtime=T0)
    m.set_mtime("%s/d%02d" % (SUB, d), T0)
m.set_mtime(SUB, T0)

ONE_CHILD = ("StartServers 1\nServerLimit 1\nMaxRequestWorkers 16\n"
             "MinSpareThreads 1\nMaxSpareThreads 16\n")
a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree %s
ZddcMirrorMinInterval 1s
ZddcMirrorParallelism %d
<Location /zddc-status>
    SetHandler zddc-status
</Location>
""" % (SUB, PAR)), server_conf=ONE_CHILD)
a.start()
ok(wait_until(lambda: len(a.child_pids()) == 1, 10), "one child serves",
   a.child_pids())
child = a.child_pids()[0]

CLONE = re.compile(r"^\d+\s+(?:clone3?)\(")


def traced_walk(what, fetched):
    """Press "walk now" with strace -f on the child; the walk's figures and
    the number of threads the child started meanwhile."""
    st = Strace(child, "clone,clone3")
    ok(st.attached, "%s: strace attached to the child" % what)
    line = walk_now(a, SUB, what, timeout=60)
    clones = [ln for ln in st.lines() if CLONE.match(ln)]
    done = re.search(r"walk of %s finished in \S+: (.*)$" % re.escape(SUB),
                     line)
    f = dict(kv.split("=", 1) for kv in done.group(1).split()) if done else {}
    is_([f.get(k) for k in ("dirs", "files", "fetched", "errors")],
        [str(DIRS + 1), str(DIRS * PER_DIR), str(fetched), "0"],
        "%s: every directory and file, fetched=%d, no errors"
        % (what, fetched))
    ok(len(clones) <= BOUND, "%s of %d directories started %d threads, at "
       "most %d (2 x ZddcMirrorParallelism + 4)"
       % (what, DIRS + 1, len(clones), BOUND), "\n".join(clones[:20]))
    note("%s: %d clone/clone3 calls" % (what, len(clones)))
    return f


traced_walk("cold walk", DIRS * PER_DIR)
missing = [p for p in ("%s/d%02d/f%d.pdf" % (SUB, d, f)
                       for d in range(DIRS) for f in range(PER_DIR))
           if a.disk(p) is None]
is_(missing, [], "the cold walk mirrored every file")
# ZddcMirrorMinInterval 1s: "walk now" starts the next one regardless.
traced_walk("warm walk", 0)
is_(a.child_pids(), [child], "the same child served throughout")

done_testing()
