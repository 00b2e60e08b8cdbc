#!/usr/bin/python3
# Mirror mode (SPEC §4, §6): last_walk_at persists in the state file, so a
# stopped and restarted (or gracefully restarted) server does not walk again.
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/a.pdf", b"a", mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1h
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
a.start()
a.get("/Docs/a.pdf")
ok(a.wait_log(r"walk of /Docs finished", 15), "first walk ran")
state_path = os.path.join(a.cache, ".zddc-mirror-state.json")
with open(state_path) as f:
    before = json.load(f)["subtrees"]["/Docs"]["last_walk_at"]


def json_listings():
    return len([e for e in m.requests("GET")
                if "application/json" in e["headers"].get("accept", "")])


n = json_listings()
a.stop()
a.start()
like(a.error_log(), r"subtree /Docs last walked at|resuming normal",
     "server came back")
for _ in range(5):
    is_(a.get("/Docs/a.pdf").status, 200, "served after the restart")
# A walk is queued (and logged) in the request's fixups, before its
# response: every trigger above has logged by now, nothing to wait for.
is_(len(re.findall(r"walk of /Docs queued", a.error_log())), 1,
    "no walk after a full restart within the interval")
is_(json_listings(), n, "no listing asked upstream after the restart")
st = a.get("/zddc-status", headers={"Accept": "application/json"}).json()
sub = st["vhosts"][0]["subtrees"][0]
is_(sub["last_walk_at"], before, "the status page shows the persisted time")
is_(sub["due"], False, "and the subtree is not due")

a.graceful()
a.get("/Docs/a.pdf")
# A walk is queued (and logged) in the request's fixups, before its
# response: every trigger above has logged by now, nothing to wait for.
is_(len(re.findall(r"walk of /Docs queued", a.error_log())), 1,
    "no walk after a graceful restart either")
with open(state_path) as f:
    is_(json.load(f)["subtrees"]["/Docs"]["last_walk_at"], before,
        "the state file is unchanged")

done_testing()
