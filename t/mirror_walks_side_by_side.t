#!/usr/bin/python3
# Mirror mode (SPEC §6.7): walks of different subtrees run side by side in
# one child's thread pool; a long walk (a master slow to list one folder)
# never holds back a short one in the same process.
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok", slow_seconds=30)
m.put_file("/Slow/a.pdf", b"a", mtime=T0)
m.put_file("/Slow/sub/deep.pdf", b"deep", mtime=T0)
m.put_file("/Fast/b.pdf", b"b", mtime=T0)
m.set_fault("slow", "/Slow/sub/")

# One child process, so both walks are this process's.
one_child = ("StartServers 1\nServerLimit 1\nMinSpareThreads 1\n"
             "MaxSpareThreads 16\nMaxRequestWorkers 16\n")
a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Slow, /Fast
ZddcMirrorMinInterval 1h
"""), server_conf=one_child)
a.start()


def queued(sub):
    return re.findall(r"walk of %s queued in process (\d+)" % sub,
                      a.error_log())


def ended(sub):
    return re.search(r"walk of %s (finished in|failed after)" % sub,
                     a.error_log())


is_(a.get("/Slow/a.pdf").status, 200, "a request under /Slow")
ok(wait_until(lambda: m.count("GET", path="/Slow/sub/") >= 1, 15),
   "the walk of /Slow is waiting on the slow listing", a.error_log_tail())
started = time.time()
is_(a.get("/Fast/b.pdf").status, 200, "a request under /Fast")
ok(wait_until(lambda: ended("/Fast"), 10), "the walk of /Fast finished",
   a.error_log_tail())
took = time.time() - started
ok(took < 8, "promptly, while the long walk runs", "%.1f s" % took)
ok(not ended("/Slow"), "the walk of /Slow is still running")
q_slow, q_fast = queued("/Slow"), queued("/Fast")
ok(q_slow and q_fast and q_slow[0] == q_fast[0],
   "both walks ran in the same child process", (q_slow, q_fast))
ok(os.path.isfile(a.on_disk("/Fast/b.pdf")), "the short walk mirrored /Fast")

done_testing()
