#!/usr/bin/python3
# Mirror mode (SPEC §3 ZddcMirrorWalkTimeout, §6.6): a walk running longer
# is stopped: transfers cancelled, temps discarded, logged at warning, and
# the purges its finished directories planned are carried out (a tree that
# never finishes within the timeout is still purged); a directory whose
# listing did not come back in time is left alone.
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
m.put_file("/Docs/slowdir/kept.pdf", b"k", mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1s
ZddcMirrorWalkTimeout 2s
"""))
a.start()
a.get("/Docs/")
ok(a.wait_log(r"walk of /Docs finished", 15), "first walk ran")

m.remove("/Docs/orphan-to-be.pdf")
m.remove("/Docs/slowdir/kept.pdf")
m.set_fault("slow", "/Docs/slowdir/")
m.put_file("/Docs/big.pdf", b"b" * 100000, mtime=T0)
m.set_fault("drip", "/Docs/big.pdf")
started = time.time()
a.walk_when_due("/Docs", "/Docs/")
done = a.wait_log(r"\[zddc_mirror:warn\].* walk of /Docs failed after "
                  r"(\S+): it ran longer than ZddcMirrorWalkTimeout 2s", 20)
ok(done, "the walk is stopped by its timeout", a.error_log_tail())
ok(time.time() - started < 10, "well before the stalled transfer would end")
ok(wait_until(lambda: not glob.glob(a.cache + "/Docs/.zddc-cache-tmp-*"), 5),
   "the partial download's temp file is discarded")
ok(not os.path.exists(a.cache + "/Docs/big.pdf"), "no torn file published")
ok(not os.path.exists(a.cache + "/Docs/orphan-to-be.pdf"),
   "a timed-out walk carries out the purge its finished directory planned")
ok(os.path.exists(a.cache + "/Docs/slowdir/kept.pdf"),
   "a directory whose listing did not come back in time is not purged")
with open(os.path.join(a.cache, ".zddc-mirror-state.json")) as f:
    st = json.load(f)["subtrees"]["/Docs"]
ok(st.get("last_walk_at"), "the failed walk still records last_walk_at", st)
ok(st.get("last_success_at") and st["last_success_at"] < st["last_walk_at"],
   "last_success_at stays that of the first walk", st)

done_testing()
