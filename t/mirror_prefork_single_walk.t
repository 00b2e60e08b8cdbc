#!/usr/bin/python3
# Mirror mode under prefork (SPEC §6): many concurrent triggers, served by
# several child processes, start exactly one walk of the subtree: one "queued"
# line, and the upstream sees exactly one JSON listing request per directory.
import collections
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
N = 32
SLOW = 6.0                   # the walk stays in flight this long at least
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
SPECS = PROJ + "/Specs"
OLD = SPECS + "/Old #1"
EMPTY = PROJ + "/Empty"
DIRS = [PROJ, TRN, SPECS, OLD, EMPTY]
FILES = {
    PROJ + "/readme.txt": b"readme",
    TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf": b"%PDF spec" * 100,
    TRN + "/123456-ME-CAL-0007_0 (IFI) - Pump Sizing #2 (100% load).pdf":
        b"%PDF calc" * 100,
    SPECS + "/s1.pdf": b"s1",
    SPECS + "/s2.pdf": b"s2",
    SPECS + "/caf\u00e9 spec.pdf": b"cafe",
    OLD + "/old.pdf": b"old",
}
SLOW_FILE = OLD + "/slow.pdf"

m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=SLOW)
for path, data in FILES.items():
    m.put_file(path, data, mtime=T0)
m.put_file(SLOW_FILE, b"slow", mtime=T0)
m.mkdir(EMPTY)
m.put_file("/Other/o.pdf", b"other", mtime=T0)
m.set_fault("slow", SLOW_FILE)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree "%s"
ZddcMirrorMinInterval 1h
<Location /zddc-status>
    SetHandler zddc-status
</Location>
""" % PROJ), mpm="prefork", server_conf="""
LogFormat "%P %U" pidfmt
CustomLog logs/pid.log pidfmt
""")
a.start()
ok(a.wait_log(r"mpm_prefork:notice", 10), "running under the prefork MPM",
   a.error_log_tail(5))
ok(wait_until(lambda: len(a.child_pids()) >= 4, 10),
   "several child processes are up", a.child_pids())

urls = list(FILES) + [PROJ + "/no such file.pdf"]
times = [None] * N


def fire(i):
    t = time.monotonic()
    r = a.get(urls[i % len(urls)], timeout=30)
    times[i] = time.monotonic() - t
    return r


results = at_once(N, fire)
finished_early = not re.search(r"walk of \S.* finished", a.error_log())

bad = [(urls[i % len(urls)], r) for i, r in enumerate(results)
       if not (isinstance(r, Response)
               and r.status == (404 if "no such" in urls[i % len(urls)]
                                else 200))]
is_(bad, [], "all %d concurrent requests were answered (200, or 404 for the "
    "missing file)" % N)
ok(finished_early, "every request was answered while the walk was still in "
   "flight (the requests never wait for the walk)",
   "times: %r" % times)


def pid_lines():
    try:
        with open(os.path.join(a.root, "logs", "pid.log")) as f:
            return [ln.split(" ", 1) for ln in f.read().splitlines() if ln]
    except OSError:
        return []


ok(wait_until(lambda: len(pid_lines()) >= N, 5), "the pid log has a line per "
   "request", pid_lines())
pids = set(p for p, _ in pid_lines())
ok(len(pids) > 1, "the requests were served by more than one child process",
   "pids: %r, children: %r" % (pids, a.child_pids()))

done = a.wait_log(r"walk of %s finished in \S+: (.*)$" % re.escape(PROJ),
                  SLOW + 20)
ok(done, "the walk finishes", a.error_log_tail())
# A walk is queued (and logged) in the request's fixups, before its
# response: every trigger above has logged by now, nothing to wait for.
log = a.error_log()
queued = re.findall(r"walk of (.*) queued in process (\d+)", log)
is_(len(queued), 1, "exactly one 'walk of ... queued' line for %d "
    "concurrent triggers in %d processes" % (N, len(pids)))
is_(len(re.findall(r"walk of .* finished", log)), 1, "exactly one walk "
    "finished")
if queued:
    is_(queued[0][0], PROJ, "the walk is of the configured subtree")

listings = collections.Counter(
    e["path"] for e in m.requests("GET")
    if "application/json" in e["headers"].get("accept", ""))
is_(dict(listings), dict((d + "/", 1) for d in DIRS),
    "the upstream saw exactly one JSON listing request per directory of "
    "the subtree")
is_(m.count(prefix="/Other"), 0, "nothing outside the subtree was asked")
is_(m.count("GET", path=SLOW_FILE), 1, "the slow file was fetched once")
ok(os.path.isfile(a.cache + SLOW_FILE), "the walk mirrored the slow file")
for path, data in FILES.items():
    ok(os.path.isfile(a.cache + path), "mirrored: %s" % path)

st = a.get("/zddc-status", headers={"Accept": "application/json"}).json()
sub = st["vhosts"][0]["subtrees"][0]
is_(sub["in_flight"], None, "no walk in flight any more")

# Later triggers from every child: still no second walk within the interval.
for i in range(16):
    a.get(urls[i % len(urls)])
# A walk is queued (and logged) in the request's fixups, before its
# response: every trigger above has logged by now, nothing to wait for.
is_(len(re.findall(r"walk of .* queued", a.error_log())), 1,
    "later requests (any child) start no second walk within the interval")

done_testing()
