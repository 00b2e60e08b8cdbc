#!/usr/bin/python3
# SPEC §9, issue 8 #10: `make install DESTDIR=...` lays out the module and the
# a2enmod files, never overwrites an edited zddc_mirror.conf, and
# `make uninstall` removes what install put; all in a scratch tree.
import os
import stat
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from zddc_test import *  # noqa: E402,F403
from install_guard import machine_apache_snapshot, snapshot_changes  # noqa: E402

# Install what this run built (build/ or build-san/): nothing is compiled here.
ENV = {k: v for k, v in os.environ.items()
       if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
SAN = "1" if SANITIZE else ""


def make(target, dest):
    p = subprocess.run(["make", "-s", "-C", REPO, target, "SANITIZE=" + SAN,
                        "DESTDIR=" + dest], capture_output=True, text=True,
                       timeout=300, env=ENV)
    return p.returncode, p.stdout + p.stderr


def apxs(var):
    return subprocess.run(["apxs", "-q", var], capture_output=True,
                          text=True, timeout=30).stdout.strip()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def read(path):
    with open(path) as f:
        return f.read()


def files_under(root):
    found = []
    for d, _, names in os.walk(root):
        found += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return sorted(found)


machine_before = machine_apache_snapshot()
LIBEXEC, SYSCONF = apxs("LIBEXECDIR"), apxs("SYSCONFDIR")
dest = tempdir("zddc-install-")
so = dest + LIBEXEC + "/mod_zddc_mirror.so"
avail = dest + SYSCONF + "/mods-available"
load, conf = avail + "/zddc_mirror.load", avail + "/zddc_mirror.conf"
shipped_conf = read(os.path.join(REPO, "conf", "zddc_mirror.conf"))

# --- a fresh install --------------------------------------------------------
rc, out = make("install", dest)
is_(rc, 0, "make install DESTDIR=... succeeds") or diag(out)
is_(files_under(dest), sorted([
    os.path.relpath(p, dest) for p in (so, load, conf)]),
    "install puts exactly the module, the .load and the .conf")
ok(os.path.isfile(so) and mode(so) == 0o644,
   "module at %s/mod_zddc_mirror.so, mode 0644" % LIBEXEC)
is_([oct(mode(p)) for p in (load, conf)], ["0o644", "0o644"],
    ".load and .conf are mode 0644")
is_(oct(mode(avail)), "0o755", "mods-available is mode 0755")
is_(read(load), "LoadModule zddc_mirror_module %s/mod_zddc_mirror.so\n"
    % LIBEXEC, ".load is the one LoadModule line naming the installed module")
unlike(read(load), r"^#\s*Depends:",
       ".load has no a2enmod 'Depends:' line (mod_status is optional)")
is_(read(conf), shipped_conf, ".conf is conf/zddc_mirror.conf")

# --- reinstall over an edited .conf -----------------------------------------
edited = shipped_conf + "ZddcMode Off\n# edited by the administrator\n"
with open(conf, "w") as f:
    f.write(edited)
rc, out = make("install", dest)
is_(rc, 0, "make install over an edited .conf succeeds") or diag(out)
is_(read(conf), edited, "the edited zddc_mirror.conf is not overwritten")
ok(os.path.isfile(conf + ".dist") and read(conf + ".dist") == shipped_conf,
   "the new .conf is installed beside it as zddc_mirror.conf.dist")
like(out, r"kept your edited .*zddc_mirror\.conf.*zddc_mirror\.conf\.dist",
     "make install says it kept the edited .conf and where the new one is")

# --- uninstall refuses while enabled ---------------------------------------
enabled = dest + SYSCONF + "/mods-enabled"
os.makedirs(enabled)
os.symlink("../mods-available/zddc_mirror.load", enabled + "/zddc_mirror.load")
rc, out = make("uninstall", dest)
isnt(rc, 0, "make uninstall refuses while mods-enabled/zddc_mirror.load exists")
like(out, r"a2dismod zddc_mirror", "and says to run a2dismod first")
ok(os.path.isfile(so) and os.path.isfile(load),
   "the refused uninstall removed nothing")
os.unlink(enabled + "/zddc_mirror.load")

# --- uninstall keeps an edited .conf, removes the rest ----------------------
rc, out = make("uninstall", dest)
is_(rc, 0, "make uninstall succeeds once the module is disabled") or diag(out)
is_(files_under(dest), [os.path.relpath(conf, dest)],
    "uninstall removes module, .load and .conf.dist; only the edited .conf "
    "is left")
is_(read(conf), edited, "the edited .conf is kept as it was")
like(out, r"kept your edited .*zddc_mirror\.conf", "uninstall says so")

# --- an unedited .conf: install then uninstall leaves nothing ---------------
os.unlink(conf)
rc, _ = make("install", dest)
is_(rc, 0, "install again")
ok(not os.path.exists(conf + ".dist"), "an unedited install has no .dist")
rc, out = make("uninstall", dest)
is_(rc, 0, "uninstall again")
is_(files_under(dest), [], "an unedited install is removed without a trace")

is_(snapshot_changes(machine_before, machine_apache_snapshot()), [],
    "the machine's own /etc/apache2, /var/lib/apache2 and %s are unchanged"
    % LIBEXEC)
done_testing()
