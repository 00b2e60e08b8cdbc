#!/usr/bin/python3
# Mirror mode (SPEC §6): after a graceful restart, a child of the old
# generation kept alive by a client's long download ends its walk at once
# (aborted: last_walk_at not advanced), so the new generation's walk of the
# same subtree never runs beside it; the new walk waits for the file the
# old child's client is still downloading instead of counting it current.
import glob
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
SLOW = 8.0
BIG = "/Docs/big.pdf"
HOLD = "/Docs/hold.pdf"
BIG_BODY = b"b" * 200000
HOLD_BODY = b"h" * 300000

m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=SLOW)
m.put_file("/Docs/a.pdf", b"a" * 1000, mtime=T0)
m.put_file(BIG, BIG_BODY, mtime=T0)
m.put_file(HOLD, HOLD_BODY, mtime=T0)
m.set_fault("drip", BIG)
m.set_fault("drip", HOLD)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1h
"""))
a.start()

got = {}


def client():
    r = a.get(HOLD, timeout=60)
    got["status"], got["len"] = r.status, len(r.body)


def log_pid(regex):
    """pids of the processes that logged regex."""
    return [int(p) for p in re.findall(r"\[pid (\d+)(?::tid \d+)?\][^\n]*"
                                       + regex, a.error_log())]


# The client's miss on HOLD downloads it (dripping) and kicks the walk in
# the same child, which keeps that child alive across the restart.
th = threading.Thread(target=client)
th.start()
ok(a.wait_log(r"walk of /Docs queued in process", 10), "the walk is queued")
ok(wait_until(lambda: len(glob.glob(a.cache + "/Docs/.zddc-cache-tmp-*"))
              >= 2, 10),
   "the walk downloads big.pdf while the client downloads hold.pdf",
   os.listdir(a.cache + "/Docs") if os.path.isdir(a.cache + "/Docs") else [])
old = log_pid(r"walk of /Docs queued in process")

a.graceful()
t = time.monotonic()
aborted = a.wait_log(r"walk of /Docs aborted after \S+: the server is "
                     r"stopping or restarting", 4)
client_alive = th.is_alive()
ok(aborted, "the old generation's walk is aborted soon after the graceful "
   "restart (%.1fs)" % (time.monotonic() - t), a.error_log_tail())
ok(client_alive, "while its child still serves the client's download")
is_(log_pid(r"walk of /Docs aborted"), old, "aborted in the old child")
unlike(a.error_log(), r"walk of /Docs (finished|failed)",
       "the aborted walk reports no result")
ok(not os.path.exists(os.path.join(a.cache, ".zddc-mirror-state.json")),
   "last_walk_at was not recorded")

# The new generation walks the subtree once, on the next access.
a.get("/Docs/")
done = a.wait_log(r"walk of /Docs finished in \S+: (.*)$", SLOW + 30)
ok(done, "the new generation's walk finishes", a.error_log_tail())
th.join(30)
is_(got.get("status"), 200, "the client's download completed")
is_(got.get("len"), len(HOLD_BODY), "whole")
# A walk is queued (and logged) in the request's fixups, before its
# response: every trigger above has logged by now, nothing to wait for.
log = a.error_log()
is_(len(re.findall(r"walk of /Docs finished", log)), 1,
    "exactly one walk of /Docs finished")
queued = log_pid(r"walk of /Docs queued in process")
is_(len(queued), 2, "two walks were queued: one per generation")
ok(len(queued) == 2 and queued[1] != queued[0],
   "the second in a child of the new generation", queued)
f = dict(kv.split("=", 1) for kv in done.group(1).split()) if done else {}
is_(f.get("busy"), "0", "the new walk left nothing busy")
is_(f.get("errors"), "0", "and met no errors")
for path, body in ((BIG, BIG_BODY), (HOLD, HOLD_BODY), ("/Docs/a.pdf",
                                                          b"a" * 1000)):
    try:
        with open(a.cache + path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        data = e
    ok(data == body, "%s is in the cache, whole" % path,
       data if not isinstance(data, bytes) else "%d bytes" % len(data))
ok(wait_until(lambda: not glob.glob(a.cache + "/Docs/.zddc-cache-tmp-*"), 5),
   "no temp file is left behind")
try:
    with open(os.path.join(a.cache, ".zddc-mirror-state.json")) as fh:
        state = json.load(fh)
except (OSError, ValueError) as e:
    state = {"error": str(e)}
ok(state.get("subtrees", {}).get("/Docs", {}).get("last_walk_at"),
   "last_walk_at is recorded by the new walk", state)

done_testing()
