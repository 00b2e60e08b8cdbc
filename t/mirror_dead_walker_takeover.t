#!/usr/bin/python3
# Mirror mode (SPEC §6): a walk whose process died (killed mid-walk) does not
# block the subtree: the next access in a live process takes it over.
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=60)
m.put_file("/Docs/a.pdf", b"a", mtime=T0)
m.put_file("/Docs/slow.pdf", b"slow", mtime=T0)
m.set_fault("slow", "/Docs/slow.pdf")

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
a.start()


def in_flight():
    r = a.get("/zddc-status", headers={"Accept": "application/json"})
    return r.json()["vhosts"][0]["subtrees"][0]["in_flight"]


a.get("/Docs/a.pdf")
live = wait_until(in_flight, 10, 0.1)
ok(live, "a walk is in flight")
victim = live["pid"] if live else None
a.get("/Docs/a.pdf")
is_(len(re.findall(r"walk of /Docs queued", a.error_log())), 1,
    "while it lives, no second walk starts")

if victim:
    os.kill(victim, signal.SIGKILL)
m.clear_faults()


def taken_over():
    a.get("/Docs/a.pdf")
    return len(re.findall(r"walk of /Docs queued", a.error_log())) == 2


ok(wait_until(taken_over, 20, 0.3), "after the process died, an access "
   "starts a new walk", a.error_log_tail())
ok(a.wait_log(r"walk of /Docs finished", 15), "which finishes")
ok(os.path.isfile(a.cache + "/Docs/slow.pdf"), "and mirrors the subtree")
pids = re.findall(r"walk of /Docs queued in process (\d+)", a.error_log())
ok(len(pids) == 2 and int(pids[1]) != victim, "in another process", pids)

done_testing()
