#!/usr/bin/python3
# Mirror mode (SPEC §6): a graceful restart ends a running walk cleanly: no
# temp file left, last_walk_at not advanced, the next access walks again.
import glob
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=60)
m.put_file("/Docs/a.pdf", b"a" * 5000, mtime=T0)
m.put_file("/Docs/big.pdf", b"b" * 200000, mtime=T0)
m.set_fault("drip", "/Docs/big.pdf")

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
a.start()
a.get("/Docs/")
ok(wait_until(lambda: glob.glob(a.cache + "/Docs/.zddc-cache-tmp-*"), 10),
   "the walk is downloading big.pdf into a temp file")

a.graceful()
ok(a.wait_log(r"walk of /Docs aborted after \S+: the server is stopping", 15),
   "the walk is aborted by the graceful restart", a.error_log_tail())
unlike(a.error_log(), r"walk of /Docs (finished|failed)",
       "the aborted walk reports no result")
ok(wait_until(lambda: not glob.glob(a.cache + "/Docs/.zddc-cache-tmp-*"), 5),
   "no temp file is left behind")
ok(not os.path.exists(a.cache + "/Docs/big.pdf"), "no torn file published")
state = os.path.join(a.cache, ".zddc-mirror-state.json")
ok(not os.path.exists(state), "last_walk_at was not recorded")

m.clear_faults()
a.get("/Docs/")
ok(wait_until(lambda: re.search(r"walk of /Docs finished", a.error_log()),
              15), "the next access walks the subtree again",
   a.error_log_tail())
with open(a.cache + "/Docs/big.pdf", "rb") as f:
    is_(len(f.read()), 200000, "and big.pdf arrives whole")
with open(state) as f:
    ok(json.load(f)["subtrees"]["/Docs"]["last_walk_at"],
       "and last_walk_at is recorded")

done_testing()
