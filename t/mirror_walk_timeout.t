#!/usr/bin/python3
# Mirror mode (SPEC §3 ZddcMirrorWalkTimeout): a walk running longer is
# stopped: transfers cancelled, temps discarded, nothing purged, logged.
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
m.put_file("/Docs/a.pdf", b"a", mtime=T0)
m.put_file("/Docs/orphan-to-be.pdf", b"o", mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1s
ZddcMirrorWalkTimeout 2s
"""))
a.start()
a.get("/Docs/")
ok(a.wait_log(r"walk of /Docs finished", 15), "first walk ran")

m.remove("/Docs/orphan-to-be.pdf")
m.put_file("/Docs/big.pdf", b"b" * 100000, mtime=T0)
m.set_fault("drip", "/Docs/big.pdf")
time.sleep(1.2)
started = time.time()
a.get("/Docs/")
done = a.wait_log(r"walk of /Docs failed after (\S+): it ran longer than "
                  r"ZddcMirrorWalkTimeout 2s", 20)
ok(done, "the walk is stopped by its timeout", a.error_log_tail())
ok(time.time() - started < 10, "well before the stalled transfer would end")
ok(wait_until(lambda: not glob.glob(a.cache + "/Docs/.zddc-cache-tmp-*"), 5),
   "the partial download's temp file is discarded")
ok(not os.path.exists(a.cache + "/Docs/big.pdf"), "no torn file published")
ok(os.path.exists(a.cache + "/Docs/orphan-to-be.pdf"),
   "a timed-out walk purges nothing")
with open(os.path.join(a.cache, ".zddc-mirror-state.json")) as f:
    ok(json.load(f)["subtrees"]["/Docs"]["last_walk_at"],
       "the failed walk still records last_walk_at")

done_testing()
