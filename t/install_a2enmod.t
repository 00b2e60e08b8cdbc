#!/usr/bin/python3
# SPEC §9: `make install` puts the module and the a2enmod files in Debian's
# layout, so `a2enmod zddc_mirror && apachectl configtest` works.
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from zddc_test import *  # noqa: E402,F403


# The installed module is the plain build, even inside `make test SANITIZE=1`
# (whose MAKEFLAGS would otherwise reach the inner make).
ENV = {k: v for k, v in os.environ.items()
       if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SANITIZE")}


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=ENV, **kw)
    return p.returncode, p.stdout + p.stderr


dest = tempdir("zddc-install-")
rc, out = run(["make", "-C", REPO, "install", "SANITIZE=", "DESTDIR=" + dest])
is_(rc, 0, "make install DESTDIR=... succeeds")
libexec = subprocess.run(["apxs", "-q", "LIBEXECDIR"], capture_output=True,
                         text=True).stdout.strip()
sysconf = subprocess.run(["apxs", "-q", "SYSCONFDIR"], capture_output=True,
                         text=True).stdout.strip()
so = dest + libexec + "/mod_zddc_mirror.so"
ok(os.path.isfile(so), "module installed at %s" % (libexec + "/mod_zddc_mirror.so"))
load = dest + sysconf + "/mods-available/zddc_mirror.load"
ok(os.path.isfile(load), "zddc_mirror.load in mods-available")
ok(os.path.isfile(dest + sysconf + "/mods-available/zddc_mirror.conf"),
   "zddc_mirror.conf in mods-available")
with open(load) as f:
    like(f.read(), r"LoadModule zddc_mirror_module %s/mod_zddc_mirror.so"
         % libexec, ".load names the installed module path")

if os.geteuid() == 0:
    # As root (CI), the real thing: install, enable, configtest, disable.
    enabled_before = os.path.exists(sysconf + "/mods-enabled/zddc_mirror.load")
    rc, out = run(["make", "-C", REPO, "install", "SANITIZE="])
    is_(rc, 0, "make install into the system")
    rc, out = run(["a2enmod", "zddc_mirror"])
    is_(rc, 0, "a2enmod zddc_mirror")
    rc, out = run(["apache2ctl", "configtest"])
    ok(rc == 0 and "Syntax OK" in out, "apachectl configtest with the module enabled",
       diag=out)
    rc, out = run(["apache2ctl", "-M"])
    like(out, r"zddc_mirror_module", "apache2ctl -M lists zddc_mirror_module")
    if not enabled_before:
        run(["a2dismod", "-q", "zddc_mirror"])
else:
    note("not root: the system-wide a2enmod check runs in CI as root")
done_testing()
