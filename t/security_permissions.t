#!/usr/bin/python3
# SPEC §4/§8, issue 8 #7: cached content is not world-readable: directories
# 0750 and files 0640 (documents, listing sidecars, marker, state file),
# owned by the server's User and Group; an old world-readable root is
# tightened at start.
import os
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
m = master(acl={"tok": ["/"]}, bearer="tok")
for i in range(3):
    m.put_file(TRN + "/123456-EL-SPC-262%d_A (IFC) - Spec.pdf" % i,
               b"%PDF-1.4 " + bytes([65 + i]) * 100, mtime=T0)
m.set_mtime(TRN, T0)
m.set_mtime(PROJ, T0)

a = Apache(mirror_conf(m, "ZddcMirrorSubtree %s\n" % PROJ))
os.makedirs(a.cache, mode=0o755)
os.chmod(a.cache, 0o755)
a.start()
a.get(TRN + "/123456-EL-SPC-2620_A (IFC) - Spec.pdf")
a.get(TRN + "/", headers={"Accept": "text/html"})
ok(a.wait_log(r"walk of /Project 123456 finished", 20), "a walk ran",
   a.error_log_tail())
ok(wait_until(lambda: os.path.exists(os.path.join(
    a.cache, ".zddc-mirror-state.json")), 10), "the state file is written")

dirs, files = [], []
for d, dn, fn in os.walk(a.cache):
    dirs.append(d)
    files += [os.path.join(d, f) for f in fn]
ok(len(files) >= 7, "documents, sidecars, marker and state are on disk",
   files)
bad = ["%s %o" % (p, stat.S_IMODE(os.lstat(p).st_mode)) for p in dirs
       if stat.S_IMODE(os.lstat(p).st_mode) != 0o750]
is_(bad, [], "every directory (the root included) is 0750")
bad = ["%s %o" % (p, stat.S_IMODE(os.lstat(p).st_mode)) for p in files
       if stat.S_IMODE(os.lstat(p).st_mode) != 0o640]
is_(bad, [], "every file is 0640")
if os.geteuid() == 0:
    bad = [p for p in dirs + files
           if (os.lstat(p).st_uid, os.lstat(p).st_gid) != (65534, 65534)]
    is_(bad, [], "everything belongs to User nobody, Group nogroup")
is_(a.get(TRN + "/123456-EL-SPC-2621_A (IFC) - Spec.pdf").status, 200,
    "the server still serves what it stored")
a.stop()

done_testing()
