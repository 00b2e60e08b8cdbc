#!/usr/bin/python3
# Issue 8 #10, SPEC §7/§9: mod_status is optional. Without it loaded the
# module starts, caches, walks and serves its own zddc-status page (only the
# server-status section needs mod_status), so zddc_mirror.load depends on
# nothing.
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from zddc_test import *  # noqa: E402,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/a.pdf", b"A" * 1000, mtime=T0)
m.put_file("/Docs/sub/b.pdf", b"B" * 10, mtime=T0)

a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
# The harness loads mod_status for every other test; this server is the
# same without that one line.
with open(a.conf_path) as f:
    conf = f.read()
without = re.sub(r"^LoadModule status_module .*\n", "", conf, flags=re.M)
isnt(without, conf, "the scratch server's config no longer loads mod_status")
with open(a.conf_path, "w") as f:
    f.write(without)

rc, out = a.configtest()
ok(rc == 0 and "Syntax OK" in out, "configtest passes without mod_status", out)
a.start()

r = a.get("/Docs/a.pdf")
is_((r.status, r.header("X-Zddc-Cache")), (200, "MISS"), "first GET: 200 MISS")
is_(r.body, b"A" * 1000, "with the master's body")
done = a.wait_log(r"walk of /Docs finished in \S+: (.*)$", 20)
ok(done, "the access started a walk of /Docs, which finished",
   a.error_log_tail())
is_(a.disk("/Docs/sub/b.pdf"), b"B" * 10, "the walk cached /Docs/sub/b.pdf")
r = a.get("/Docs/a.pdf")
is_((r.status, r.header("X-Zddc-Cache")), (200, "REVALIDATED"),
    "second GET: 200 REVALIDATED from the cache")

r = a.get("/zddc-status", headers={"Accept": "application/json"})
is_(r.status, 200, "the zddc-status page answers without mod_status")
like(r.text, r'"/Docs"', "and shows the subtree")
unlike(a.error_log(), r"\[(emerg|alert|crit)\]|Segmentation|AH00052",
       "no crash or fatal error in the error log")
done_testing()
