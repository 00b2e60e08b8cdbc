#!/usr/bin/python3
# Issue 12, SPEC §7/§9: one version string, modules/zddc_version.h, is the
# one `make version`, debian/changelog and CHANGELOG.md carry, and the one
# the running module shows: status page (HTML and JSON), the info-level
# startup line, and the User-Agent sent upstream.
import os
import re
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from zddc_test import *  # noqa: E402,F403

ENV = {k: v for k, v in os.environ.items()
       if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SANITIZE")}


def read(rel):
    with open(os.path.join(REPO, rel)) as f:
        return f.read()


m = re.search(r'^#define ZDDC_VERSION "([^"]+)"$', read("modules/zddc_version.h"),
              re.M)
ok(m, "modules/zddc_version.h defines ZDDC_VERSION")
V = m.group(1) if m else "?"
like(V, r"^\d+\.\d+\.\d+$", "the version is MAJOR.MINOR.PATCH (%s)" % V)
p = subprocess.run(["make", "-s", "-C", REPO, "version"], capture_output=True,
                   text=True, timeout=60, env=ENV)
is_(p.stdout.strip(), V, "make version prints it")
p = subprocess.run(["dpkg-parsechangelog", "-l",
                    os.path.join(REPO, "debian", "changelog"), "-S", "Version"],
                   capture_output=True, text=True, timeout=60)
is_(p.stdout.strip(), V, "debian/changelog's latest entry is the same version")
like(read("CHANGELOG.md"), r"^## %s\b" % re.escape(V),
     "CHANGELOG.md has a section for it")
# make deb refuses a tree whose debian/changelog is at another version.
tree = tempdir("zddc-version-")
for rel in ("Makefile", "modules/zddc_version.h", "debian/changelog",
            "t/lib/install-deps.sh"):
    os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
    shutil.copy(os.path.join(REPO, rel), os.path.join(tree, rel))
with open(os.path.join(tree, "modules/zddc_version.h"), "w") as f:
    f.write(read("modules/zddc_version.h").replace('"%s"' % V, '"9.9.9"'))
p = subprocess.run(["make", "-s", "-C", tree, "deb", "DEBDIR=" + tree + "/out"],
                   capture_output=True, text=True, timeout=300, env=ENV)
ok(p.returncode != 0 and not os.path.exists(tree + "/out"),
   "make deb refuses when debian/changelog and zddc_version.h disagree",
   p.stdout + p.stderr)
like(p.stderr, r"debian/changelog is at %s, modules/zddc_version.h at 9\.9\.9"
     % re.escape(V), "and says which versions differ")
others = [f for f in os.listdir(os.path.join(REPO, "modules"))
          if f.endswith((".c", ".h")) and f != "zddc_version.h"
          and re.search(r"mod_zddc_mirror/\d", read("modules/" + f))]
is_(others, [], "no other source file spells a version of its own")

ms = master(acl={"tok": ["/"]}, bearer="tok")
ms.put_file("/a.txt", b"a")
a = Apache(cache_conf(ms, """\
<Location /zddc-status>
    SetHandler zddc-status
</Location>
""", token="tok"))
a.start()
line = a.wait_log(r"mod_zddc_mirror/(\S+) \(libcurl/([\d.]+)\) configured -- "
                  r"(\d+) virtual hosts? in Cache or Mirror mode", 10)
ok(line, "an info-level startup line in httpd's -V style", a.error_log_tail())
if line:
    is_(line.group(1), V, "it names the version")
    curl = subprocess.run(["curl-config", "--version"], capture_output=True,
                          text=True, timeout=30).stdout.split()[-1:]
    is_([line.group(2)], curl, "and the libcurl version")
    is_(line.group(3), "1", "and counts the Cache/Mirror virtual hosts")
is_(len(re.findall(r"mod_zddc_mirror/\S+ \(libcurl", a.error_log())), 1,
    "logged once per start, not for the configuration dry run")
like(a.error_log(), r"\[zddc_mirror:info\] .*mod_zddc_mirror/%s"
     % re.escape(V), "at info level, tagged with the module")

r = a.get("/a.txt")
is_(r.status, 200, "a request reaches the master")
ua = [e["headers"].get("user-agent") for e in ms.requests(path="/a.txt")]
is_(ua[:1], ["mod_zddc_mirror/" + V], "User-Agent upstream is mod_zddc_mirror/" + V)

r = a.get("/zddc-status", headers={"Accept": "application/json"})
is_(r.status == 200 and r.json().get("version"), V,
    "status page JSON: \"version\": \"%s\"" % V)
r = a.get("/zddc-status")
like(r.text, r"mod_zddc_mirror/%s\b" % re.escape(V),
     "status page HTML shows mod_zddc_mirror/" + V)

a.graceful()
is_(len(re.findall(r"mod_zddc_mirror/\S+ \(libcurl", a.error_log())), 2,
    "a graceful restart logs the line again")
done_testing()
