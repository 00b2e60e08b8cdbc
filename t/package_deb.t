#!/usr/bin/python3
# Issue 12, SPEC §9: `make deb` builds libapache2-mod-zddc-mirror with
# dh-apache2: module and a2enmod files in Debian's layout, .load/.conf as
# conffiles, maintainer scripts that enable the module on install, disable
# it on remove and purge; an edited zddc_mirror.conf survives an upgrade.
#
# Built once into a temp directory (from a copy of the tree) and inspected
# with dpkg-deb. Then installed, upgraded, removed and purged with
# `dpkg --root` into a scratch root with its own dpkg database and log:
# dpkg runs the package's real maintainer scripts chrooted there (a copy of
# /bin/sh is all they need). The scratch root's
# /usr/share/apache2/apache2-maintscript-helper is a recorder standing in
# for Debian's, which would enable the module in, and restart, the
# machine's own Apache; what the scripts ask of it is checked instead. The
# machine's Apache and dpkg database are never touched (checked at the end).
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from zddc_test import *  # noqa: E402,F403
from install_guard import machine_apache_snapshot, snapshot_changes  # noqa: E402

PKG = "libapache2-mod-zddc-mirror"
ENV = {k: v for k, v in os.environ.items()
       if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SANITIZE")}
MODSO = "/usr/lib/apache2/modules/mod_zddc_mirror.so"
AVAIL = "/etc/apache2/mods-available/"


def run(cmd, timeout=120, **kw):
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=ENV, **kw)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def host_dpkg_state():
    rc, out, _ = run(["dpkg-query", "-W", "-f=${Status}", PKG])
    return (rc, out, sorted(glob.glob("/var/lib/dpkg/info/%s.*" % PKG)))


def tree_files():
    top = sorted(os.listdir(REPO))
    deb = sorted(os.path.join(d, n) for d, _, names in
                 os.walk(os.path.join(REPO, "debian")) for n in names)
    return top + deb


machine_before = machine_apache_snapshot()
tree_before = tree_files()
host_before = host_dpkg_state()
V = re.search(r'"(.+)"', read(os.path.join(REPO, "modules", "zddc_version.h"))).group(1)

# --- build ------------------------------------------------------------------
out_dir = tempdir("zddc-deb-")
rc, out, err = run(["make", "-s", "-C", REPO, "deb", "DEBDIR=" + out_dir],
                   timeout=1800)
is_(rc, 0, "make deb succeeds") or diag(out + err)
debs = glob.glob(os.path.join(out_dir, "%s_*.deb" % PKG))
is_([os.path.basename(d).split("_")[1] for d in debs], [V],
    "one %s .deb at version %s (modules/zddc_version.h)" % (PKG, V))
if not debs:
    bail_out("no package built:\n" + out + err)
deb = debs[0]
is_(tree_files(), tree_before, "the build wrote nothing into the source tree "
    "(top level and debian/)")

# --- control ------------------------------------------------------------------
fields = {}
for name in ("Package", "Version", "Architecture", "Section", "Depends"):
    fields[name] = run(["dpkg-deb", "-f", deb, name])[1].strip()
is_((fields["Package"], fields["Version"], fields["Section"]),
    (PKG, V, "httpd"), "control: Package, Version, Section")
like(fields["Depends"], r"apache2-api-20120211",
     "Depends on the Apache module API (dh_apache2)")
like(fields["Depends"], r"libcurl4", "Depends on libcurl (shlibs)")
like(fields["Depends"], r"libcjson1", "Depends on libcjson (shlibs)")

# --- contents -----------------------------------------------------------------
rc, listing, _ = run(["dpkg-deb", "-c", deb])
entries = {}
for line in listing.splitlines():
    parts = line.split(None, 5)
    entries[parts[5].lstrip(".")] = (parts[0], parts[1])
for path in (MODSO, AVAIL + "zddc_mirror.load", AVAIL + "zddc_mirror.conf",
             "/usr/share/doc/%s/copyright" % PKG):
    is_(entries.get(path), ("-rw-r--r--", "root/root"),
        "%s is in the package, 0644 root:root" % path)
ok(any(p.startswith("/usr/share/doc/%s/examples/zddc-mirror-vhost" % PKG)
       for p in entries), "the example virtual host is in the package's docs")
unlike("\n".join(entries), r"^/(?!etc/apache2/mods-available|usr/lib/apache2/"
       r"modules|usr/share/doc/%s|etc/?$|etc/apache2/?$|usr/?$|usr/lib/?$|"
       r"usr/lib/apache2/?$|usr/share/?$|usr/share/doc/?$|$)" % PKG,
       "nothing outside the module directory, mods-available and its docs")

x = tempdir("zddc-deb-x-")
run(["dpkg-deb", "-x", deb, x])
is_(read(x + AVAIL + "zddc_mirror.load"),
    "LoadModule zddc_mirror_module %s\n" % MODSO,
    "packaged .load: the LoadModule line only (no Depends: status)")
is_(read(x + AVAIL + "zddc_mirror.conf"),
    read(os.path.join(REPO, "conf", "zddc_mirror.conf")),
    "packaged .conf is conf/zddc_mirror.conf")
ok(("mod_zddc_mirror/" + V).encode() in read(x + MODSO, "rb"),
   "the packaged module carries its version string")
a = Apache("", module_path=x + MODSO)
rc, out = a.configtest()
ok(rc == 0 and "Syntax OK" in out, "the packaged module loads (configtest)",
   out)

# --- maintainer scripts ---------------------------------------------------------
ctl = tempdir("zddc-deb-ctl-")
run(["dpkg-deb", "-e", deb, ctl])
is_(sorted(read(ctl + "/conffiles").split()),
    [AVAIL + "zddc_mirror.conf", AVAIL + "zddc_mirror.load"],
    "conffiles: zddc_mirror.load and zddc_mirror.conf")
HELPER = r"\. /usr/share/apache2/apache2-maintscript-helper"
INVOKE = r"for conf in zddc_mirror\s*;.*apache2_invoke %s \$conf"
for script, guard, act in (("postinst", r"", "enmod"),
                           ("prerm", r'"\$1" = "remove"', "dismod"),
                           ("postrm", r'"\$1" = "purge"', "dismod")):
    text = read(os.path.join(ctl, script)) if os.path.exists(
        os.path.join(ctl, script)) else ""
    like(text, guard + r".*" + HELPER + r".*" + INVOKE % act,
         "%s sources apache2-maintscript-helper and calls apache2_invoke "
         "%s zddc_mirror%s" % (script, act, " on " + guard.split('"')[-2]
                               if guard else ""))

# --- install, upgrade, remove, purge in a scratch root -------------------------
if os.geteuid() != 0:
    note("not root: dpkg --root (which chroots for maintainer scripts) is "
         "run as root only")
    done_testing()

root = tempdir("zddc-deb-root-")
for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log", "tmp",
          "bin", "usr/share/apache2"):
    os.makedirs(os.path.join(root, d))
open(root + "/var/lib/dpkg/status", "w").close()
shutil.copy2("/bin/sh", root + "/bin/sh")
rc, ldd, _ = run(["ldd", os.path.realpath("/bin/sh")])
for lib in re.findall(r"(/\S+) \(0x", ldd):
    os.makedirs(os.path.dirname(root + lib), exist_ok=True)
    shutil.copy(lib, root + lib)
with open(root + "/usr/share/apache2/apache2-maintscript-helper", "w") as f:
    f.write('apache2_invoke() {\n'
            '    echo "$DPKG_MAINTSCRIPT_NAME $1 $2" >>/apache2_invoke.log\n'
            '}\n')


def dpkg(*args):
    return run(["dpkg", "--root=" + root, "--log=" + root + "/var/log/dpkg.log",
                "--force-depends"] + list(args), timeout=120)


def invoked():
    try:
        return read(root + "/apache2_invoke.log").splitlines()
    except OSError:
        return []


def status():
    rc, out, _ = run(["dpkg-query", "--root=" + root, "-W",
                      "-f=${Version} ${Status}", PKG])
    return out if rc == 0 else None


def md5(path):
    return hashlib.md5(read(path, "rb")).hexdigest()


rc, out, err = dpkg("-i", deb)
is_(rc, 0, "dpkg --root=<scratch> -i: installs") or diag(out + err)
is_(status(), V + " install ok installed", "scratch dpkg: installed, configured")
is_(md5(root + MODSO), md5(x + MODSO), "module in /usr/lib/apache2/modules")
ok(os.path.isfile(root + AVAIL + "zddc_mirror.load")
   and os.path.isfile(root + AVAIL + "zddc_mirror.conf"),
   ".load and .conf in /etc/apache2/mods-available")
is_(invoked(), ["postinst enmod zddc_mirror"],
    "postinst asked apache2-maintscript-helper to enable zddc_mirror")
rc, out, _ = run(["dpkg-query", "--root=" + root, "-W", "-f=${Conffiles}", PKG])
is_(sorted(l.split()[0] for l in out.splitlines() if l.strip()),
    [AVAIL + "zddc_mirror.conf", AVAIL + "zddc_mirror.load"],
    "scratch dpkg database records both conffiles")

# The next version: same package, a changed zddc_mirror.conf.
edited = read(root + AVAIL + "zddc_mirror.conf") + "ZddcMode Off\n# site edit\n"
with open(root + AVAIL + "zddc_mirror.conf", "w") as f:
    f.write(edited)
V2 = V + "+test1"
tree = tempdir("zddc-deb-v2-")
run(["dpkg-deb", "-R", deb, tree])
ctl2 = read(tree + "/DEBIAN/control")
with open(tree + "/DEBIAN/control", "w") as f:
    f.write(re.sub(r"^Version: .*$", "Version: " + V2, ctl2, flags=re.M))
new_conf = read(tree + AVAIL + "zddc_mirror.conf") + "# shipped by %s\n" % V2
with open(tree + AVAIL + "zddc_mirror.conf", "w") as f:
    f.write(new_conf)
deb2 = os.path.join(out_dir, "%s_%s.deb" % (PKG, V2))
rc, out, err = run(["dpkg-deb", "--root-owner-group", "-b", tree, deb2])
is_(rc, 0, "a next version with a changed zddc_mirror.conf (repacked)") \
    or diag(out + err)

rc, out, err = dpkg("--force-confold", "-i", deb2)
is_(rc, 0, "upgrade with --force-confold") or diag(out + err)
is_(status(), V2 + " install ok installed", "scratch dpkg: upgraded")
is_(read(root + AVAIL + "zddc_mirror.conf"), edited,
    "the edited zddc_mirror.conf survives the upgrade")
is_(read(root + AVAIL + "zddc_mirror.conf.dpkg-dist")
    if os.path.exists(root + AVAIL + "zddc_mirror.conf.dpkg-dist") else None,
    new_conf, "the new one is beside it as zddc_mirror.conf.dpkg-dist")
is_(invoked(), ["postinst enmod zddc_mirror"] * 2,
    "upgrade: enabled again by postinst, never disabled by prerm upgrade")

rc, out, err = dpkg("-r", PKG)
is_(rc, 0, "dpkg -r removes") or diag(out + err)
is_(status(), V2 + " deinstall ok config-files", "scratch dpkg: config-files")
ok(not os.path.exists(root + MODSO), "remove deletes the module")
ok(os.path.exists(root + AVAIL + "zddc_mirror.load")
   and read(root + AVAIL + "zddc_mirror.conf") == edited,
   "remove keeps the conffiles, edit included")
is_(invoked()[2:], ["prerm dismod zddc_mirror"],
    "prerm asked to disable zddc_mirror on remove")

rc, out, err = dpkg("-P", PKG)
is_(rc, 0, "dpkg -P purges") or diag(out + err)
is_(status(), None, "scratch dpkg: the package is gone")
is_(sorted(os.path.join(d, n) for d, _, names in os.walk(root + "/etc")
           for n in names), [],
    "purge deletes .load, .conf and .conf.dpkg-dist")
is_(invoked()[3:], ["postrm dismod zddc_mirror"],
    "postrm asked to disable zddc_mirror on purge")

is_(host_dpkg_state(), host_before,
    "the machine's dpkg database knows nothing of the package")
is_(snapshot_changes(machine_before, machine_apache_snapshot()), [],
    "the machine's own /etc/apache2, /var/lib/apache2 and "
    "/usr/lib/apache2/modules are unchanged")
done_testing()
