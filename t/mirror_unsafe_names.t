#!/usr/bin/python3
# Mirror mode (SPEC §6.4, §8): listing entries named like AccessFileName or
# the reserved .zddc-* are skipped and logged, never written to the cache.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/ok.pdf", b"fine", mtime=T0)
m.put_file("/Docs/.htaccess", b"Options +ExecCGI\nSetHandler cgi-script\n",
           mtime=T0)
m.put_file("/Docs/.zddc-listing.json", b'[{"name":"forged","is_dir":false}]',
           mtime=T0)
m.put_file("/Docs/.zddc-cache-tmp-0000", b"forged temp", mtime=T0)
m.put_file("/Docs/.zddc-evil/inside.pdf", b"evil", mtime=T0)

a = Apache(mirror_conf(m, "ZddcMirrorSubtree /Docs\n"))
a.start()

a.get("/Docs/")
ok(a.wait_log(r"walk of /Docs finished", 15), "the walk ran",
   a.error_log_tail())
ok(os.path.isfile(a.cache + "/Docs/ok.pdf"), "the ordinary file is cached")
ok(not os.path.lexists(a.cache + "/Docs/.htaccess"),
   "a file named like AccessFileName is never written")
ok(not os.path.lexists(a.cache + "/Docs/.zddc-evil"),
   "a reserved .zddc- directory is never created")
ok(not os.path.lexists(a.cache + "/Docs/.zddc-cache-tmp-0000"),
   "a reserved temp-like name is never written")
with open(a.cache + "/Docs/.zddc-listing.json") as f:
    unlike(f.read(), r"forged", "the sidecar is the real listing, not the "
           "upstream's .zddc-listing.json")
for name in (".htaccess", ".zddc-evil", ".zddc-cache-tmp-0000"):
    like(a.error_log(), r"\[zddc_mirror:warn\].*skipping the entry "
         r"\"%s\" of /Docs/: an unsafe name" % re.escape(name),
         "skip of %s is logged" % name)
is_([e["path"] for e in m.requests("GET")
     if "/." in e["path"]], [], "unsafe names were never requested upstream")

done_testing()
