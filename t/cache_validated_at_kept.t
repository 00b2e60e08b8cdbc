#!/usr/bin/python3
# Cache pipeline (SPEC §3 ZddcCacheFreshness, §5): "validated at" is kept
# with the copy, not read from its ctime: a chmod of a cached file (or a
# chown, or a restore from backup) does not pass it off as just confirmed.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

m = master()
m.put_file("/d.pdf", b"document", mtime=1700000000)
a = Apache(cache_conf(m, "ZddcCacheFreshness 2s\n"))
a.start()

r = a.get("/d.pdf")
is_((r.status, r.header("X-Zddc-Cache")), (200, "MISS"), "fetched")
r = a.get("/d.pdf")
is_(r.header("X-Zddc-Cache"), "HIT", "within ZddcCacheFreshness: HIT")
confirmed = time.time()
ok(wait_until(lambda: time.time() - confirmed > 2.2, 5), "freshness passed")
os.chmod(a.on_disk("/d.pdf"), 0o600)          # ctime is now
m.clear_log()
r = a.get("/d.pdf")
is_((r.status, r.header("X-Zddc-Cache")), (200, "REVALIDATED"),
    "after a chmod the copy is still asked about, not a HIT")
is_(m.count("GET", path="/d.pdf"), 1, "the master was asked")
r = a.get("/d.pdf")
is_(r.header("X-Zddc-Cache"), "HIT", "and the 304 confirmed it again")

done_testing()
