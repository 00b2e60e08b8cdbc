#!/usr/bin/python3
# SPEC §9, issue 8 #10: after `make install`, `a2enmod zddc_mirror` and
# `apachectl configtest` work, and mod_status stays optional: enabling the
# module does not enable status, and `a2dismod status` is not blocked. Run
# in a scratch copy of /etc/apache2 (a2enmod's own APACHE_CONFDIR and
# APACHE_STATE_DIRECTORY), never in the machine's own.
import os
import re
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from zddc_test import *  # noqa: E402,F403
from zddc_test import _sanitizer_libs  # noqa: E402
from install_guard import machine_apache_snapshot, snapshot_changes  # noqa: E402

ENV = {k: v for k, v in os.environ.items()
       if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
SAN = "1" if SANITIZE else ""
if not os.path.isfile("/etc/apache2/apache2.conf"):
    bail_out("no /etc/apache2/apache2.conf to copy (apache2 not installed?)")
machine_before = machine_apache_snapshot()


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=env or ENV)
    return p.returncode, p.stdout + p.stderr


LIBEXEC = run(["apxs", "-q", "LIBEXECDIR"])[1].strip()
dest = tempdir("zddc-a2enmod-")
confdir = dest + "/etc/apache2"
# The machine's configuration as it is, minus any zddc_mirror files an old
# `make install` may have left there.
shutil.copytree("/etc/apache2", confdir, symlinks=True,
                ignore=shutil.ignore_patterns("zddc_mirror*"))
os.makedirs(dest + "/var/lib/apache2")
A2 = dict(ENV, APACHE_CONFDIR=confdir,
          APACHE_STATE_DIRECTORY=dest + "/var/lib/apache2")
enabled = confdir + "/mods-enabled"


def a2(tool, *args):
    return run(["/usr/sbin/" + tool, "-q"] + list(args), A2)


rc, out = run(["make", "-s", "-C", REPO, "install", "SANITIZE=" + SAN,
               "DESTDIR=" + dest])
is_(rc, 0, "make install DESTDIR=<scratch> succeeds") or diag(out)

# Start from a server without mod_status.
if os.path.lexists(enabled + "/status.load"):
    rc, out = a2("a2dismod", "status")
    is_(rc, 0, "scratch: a2dismod status before the module is enabled") or diag(out)

rc, out = a2("a2enmod", "zddc_mirror")
is_(rc, 0, "a2enmod zddc_mirror succeeds") or diag(out)
is_(os.readlink(enabled + "/zddc_mirror.load") if os.path.islink(
    enabled + "/zddc_mirror.load") else None,
    "../mods-available/zddc_mirror.load",
    "mods-enabled/zddc_mirror.load links to mods-available")
ok(os.path.islink(enabled + "/zddc_mirror.conf"),
   "mods-enabled/zddc_mirror.conf is linked too")
ok(not os.path.lexists(enabled + "/status.load"),
   "enabling zddc_mirror does not enable mod_status", out)

rc, out = a2("a2enmod", "status")
is_(rc, 0, "a2enmod status")
rc, out = a2("a2dismod", "status")
is_(rc, 0, "a2dismod status is not blocked by zddc_mirror") or diag(out)
ok(os.path.islink(enabled + "/zddc_mirror.load"),
   "zddc_mirror stays enabled without mod_status")

# configtest of the scratch server. The .load names the system path
# (checked by t/install_destdir.t); the module is under DESTDIR here, so that
# one path is rewritten to where DESTDIR put it, and the run-time
# directories envvars names (/run/apache2, /var/log/apache2, ...) are moved
# into the scratch tree.
load = confdir + "/mods-available/zddc_mirror.load"
with open(load) as f:
    text = f.read()
with open(load, "w") as f:
    f.write(text.replace(" %s/" % LIBEXEC, " %s%s/" % (dest, LIBEXEC)))
with open(load) as f:
    like(f.read(), r"^LoadModule zddc_mirror_module %s%s/mod_zddc_mirror\.so$"
         % (re.escape(dest), re.escape(LIBEXEC)),
         "the scratch server loads the module DESTDIR installed, not a "
         "system one")
for d in ("run", "lock", "log"):
    os.makedirs(dest + "/" + d)
test_env = dict(A2, APACHE_RUN_DIR=dest + "/run", APACHE_LOCK_DIR=dest + "/lock",
                APACHE_LOG_DIR=dest + "/log",
                APACHE_PID_FILE=dest + "/run/apache2.pid")
if SANITIZE:
    test_env["LD_PRELOAD"] = " ".join(_sanitizer_libs())
    test_env["ASAN_OPTIONS"] = "detect_leaks=0"
script = ('. "$APACHE_CONFDIR/envvars"; export APACHE_RUN_DIR=%s '
          'APACHE_LOCK_DIR=%s APACHE_LOG_DIR=%s APACHE_PID_FILE=%s; '
          'exec /usr/sbin/apache2 -d "$APACHE_CONFDIR" "$@"'
          % (test_env["APACHE_RUN_DIR"], test_env["APACHE_LOCK_DIR"],
             test_env["APACHE_LOG_DIR"], test_env["APACHE_PID_FILE"]))
rc, out = run(["sh", "-c", script, "apache2", "-t"], test_env)
ok(rc == 0 and "Syntax OK" in out,
   "configtest of the scratch server with zddc_mirror enabled", out)
rc, out = run(["sh", "-c", script, "apache2", "-M"], test_env)
like(out, r"^\s*zddc_mirror_module \(shared\)", "apache2 -M lists zddc_mirror_module")
unlike(out, r"^\s*status_module", "and no status_module")

rc, out = a2("a2dismod", "zddc_mirror")
is_(rc, 0, "a2dismod zddc_mirror")
ok(not os.path.lexists(enabled + "/zddc_mirror.load")
   and not os.path.lexists(enabled + "/zddc_mirror.conf"),
   "both mods-enabled links are gone")
with open(load, "w") as f:
    f.write(text)  # as installed, so uninstall recognises nothing edited
rc, out = run(["make", "-s", "-C", REPO, "uninstall", "DESTDIR=" + dest])
is_(rc, 0, "make uninstall DESTDIR=<scratch>") or diag(out)
left = [n for n in os.listdir(confdir + "/mods-available")
        if re.match(r"zddc_mirror", n)]
is_(left, [], "no zddc_mirror file left in the scratch mods-available")

is_(snapshot_changes(machine_before, machine_apache_snapshot()), [],
    "the machine's own /etc/apache2, /var/lib/apache2 and %s are unchanged"
    % LIBEXEC)
done_testing()
