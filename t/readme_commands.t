#!/usr/bin/python3
# Issue 12 (SPEC §9): every command the README gives an administrator is run
# by a test. This file collects them (shell blocks and inline `code` that
# starts with a command), runs here the ones no other test runs (the status
# page's curl commands, moving and copying a cache root), and checks that
# each of the others is run by the test named for it. A command added to the
# README without a test fails here.
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

with open(os.path.join(REPO, "README.md")) as f:
    README = f.read()

WORDS = ("sudo", "make", "curl", "apachectl", "a2enmod", "a2dismod", "rsync",
         "mv", "chown", "cp", "apt", "dpkg", "systemctl", "prove")


def readme_commands():
    """Every command line of the README, whitespace-normalized: the lines of
    its sh blocks (continuations joined, comments dropped) and inline code
    spans that start with a command word."""
    cmds = []
    for block in re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M):
        for line in block.replace("\\\n", " ").split("\n"):
            line = re.sub(r"\s+#.*$|^\s*#.*$", "", line).strip()
            if line:
                cmds.extend(c.strip() for c in line.split("&&"))
    prose = re.sub(r"^```.*?^```", "", README, flags=re.S | re.M)
    for span in re.findall(r"`([^`]+)`", prose):
        span = " ".join(span.split())
        if span.split(" ")[0] in WORDS and span not in ("curl", "make"):
            cmds.extend(c.strip() for c in span.split("&&"))
    return [" ".join(c.split()) for c in cmds]


# Commands another test (or .ci/run) runs: (file, what in it runs it).
ELSEWHERE = [
    (r"^make test( SANITIZE=1)?$", ".ci/run", r"make test"),
    (r"^make tsan$", ".ci/run", r"make tsan"),
    (r"^make fuzz FUZZ_SECONDS=N$", ".ci/run", r"make fuzz FUZZ_SECONDS="),
    (r"^make deps$", "t/lib/install-deps.sh", r"apt-get install"),
    (r"^make demo$", "t/demo_chain.t", r"demo\.py"),
    (r"^make bench$", "t/readme_commands.t", r"bench/run\.py"),
    (r"^make version$", "t/package_version.t", r'"version"'),
    (r"^make deb$", "t/package_deb.t", r"dpkg-deb"),
    (r"^sudo apt install \./build-deb/.*\.deb$", "t/package_deb.t",
     r'dpkg\("-i", deb\)'),
    (r"^apt remove$", "t/package_deb.t", r'dpkg\("-r", PKG\)'),
    (r"^apt purge$", "t/package_deb.t", r'dpkg\("-P", PKG\)'),
    (r"^(sudo )?make install$|^make$", "t/install_a2enmod.t", r'"install"'),
    (r"^sudo a2enmod zddc_mirror$", "t/install_a2enmod.t",
     r'a2\("a2enmod", "zddc_mirror"\)'),
    (r"^(sudo )?a2dismod( zddc_mirror)?$", "t/install_a2enmod.t",
     r'a2\("a2dismod", "zddc_mirror"\)'),
    (r"^(sudo )?make uninstall$", "t/install_a2enmod.t", r'"uninstall"'),
    (r"^(sudo )?apachectl configtest$", "t/install_a2enmod.t",
     r"configtest"),
    # Debian's unit runs `apachectl start`; the harness starts httpd the
    # same way (-k start semantics in the foreground) in every test.
    (r"^sudo systemctl restart apache2$", "t/lib/zddc_test.py",
     r"def start\(self\)"),
    (r"^(sudo )?apachectl graceful$", "t/fault_graceful.t", r"graceful"),
    (r"^curl --parallel --parallel-max 4$", "bench/run.py",
     r'"--parallel-max"'),
]
# Commands this file runs below.
HERE = [r"^curl -s -H 'Origin: https://mirror\.example' .*action=(walk|purge)",
        r"^mv$", r"^rsync -aX?$", r"^cp -a$", r"^chown -R www-data:www-data$",
        r"^chown$"]

cmds = readme_commands()
ok(len(cmds) >= 10, "the README's commands were found (%d)" % len(cmds))
for c in sorted(set(cmds)):
    here = any(re.search(rx, c) for rx in HERE)
    where = [(f, what) for rx, f, what in ELSEWHERE if re.search(rx, c)]
    if here:
        ok(True, "%s: run by this test" % c)
        continue
    if not where:
        ok(False, "%s: run by a test" % c, "no test runs this README command")
        continue
    f, what = where[0]
    with open(os.path.join(REPO, f)) as fh:
        like(fh.read(), what, "%s: run by %s" % (c, f))

# `make bench` runs bench/run.py with the module just built.
p = subprocess.run(["make", "-n", "-C", REPO, "bench"], capture_output=True,
                   text=True, timeout=60)
like(p.stdout, r"bench/run\.py --module \S+/build/mod_zddc_mirror\.so",
     "make bench runs bench/run.py on the built module")
p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "run.py"),
                    "--help"], capture_output=True, text=True, timeout=60)
is_(p.returncode, 0, "bench/run.py starts (--help)")

# --- the status page's buttons, as the README's curl commands --------------
PROJ = "/Project 123456"
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file(PROJ + "/old.pdf", b"%PDF old")
m.put_file(PROJ + "/keep.pdf", b"%PDF keep")
a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree %s
ZddcMirrorMinInterval 1h
<Location /zddc-status>
    SetHandler zddc-status
    Require ip 127.0.0.1
</Location>
""" % PROJ)).start()
base = "http://127.0.0.1:%d" % a.port
curls = [c for c in cmds if c.startswith("curl -s -H 'Origin:")]
is_(len(curls), 2, "the README shows two curl commands for the buttons")
for c in sorted(curls, key=lambda c: "purge" in c):  # walk first
    argv = shlex.split(c.replace("https://mirror.example", base))
    walked = a.error_log().count("walk of %s finished" % PROJ)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    is_(p.returncode, 0, "curl ran: %s" % " ".join(argv[-4:-1]))
    if "action=walk" in c:
        like(p.stdout, r'"result":\s*"started"', "the walk command starts "
             "a walk") or diag(p.stdout + p.stderr)
        ok(wait_until(lambda: a.error_log().count(
            "walk of %s finished" % PROJ) > walked, 30), "and it finishes",
           a.error_log_tail())
        ok(os.path.isfile(a.on_disk(PROJ + "/old.pdf")), "old.pdf is cached")
    else:
        like(p.stdout, r'"result":\s*"purged"', "the purge command purges") \
            or diag(p.stdout + p.stderr)
        ok(not os.path.exists(a.on_disk(PROJ + "/old.pdf")),
           "old.pdf's local copy is gone")
        ok(os.path.isfile(a.on_disk(PROJ + "/keep.pdf")), "keep.pdf stays")
a.stop()

# --- moving and copying a cache root, as "Moving or rebuilding" says -------
# A Cache host caches two files; its root is then copied (cp -a, rsync -aX,
# rsync -a) or moved (mv) to a new place, owned by the server's User
# (chown -R; the suite's User is nobody:nogroup where the README's is
# www-data), ZddcCacheRoot changed, configtest, start: the copy is used as
# it is (the master answers 304 to a conditional request: mtimes were kept).
DOC = "/docs/a.pdf"
m2 = master()
m2.put_file(DOC, b"%PDF a", mtime=1700000000)
m2.put_file("/docs/b.pdf", b"%PDF b", mtime=1700000000)
src = Apache(cache_conf(m2)).start()
for d in (DOC, "/docs/b.pdf"):
    is_(src.get(d).status, 200, "cached %s" % d)
ok(wait_until(lambda: os.path.isfile(src.on_disk(DOC)), 10), "on disk")
src.stop()
XATTR = [n for n in os.listxattr(src.on_disk(DOC)) if n.startswith("user.zddc")]
tools = {"rsync": shutil.which("rsync"), "cp": shutil.which("cp")}
ok(tools["rsync"] is not None, "rsync is installed (make test installs it)")
root_user = os.geteuid() == 0
for how in ("cp -a", "rsync -aX", "rsync -a", "mv"):
    dst_parent = tempdir("zddc-moved-")
    dst = os.path.join(dst_parent, "cache")
    if how == "mv":
        argv = ["mv", src.cache, dst]
    elif how.startswith("rsync"):
        argv = how.split() + [src.cache + "/", dst + "/"]
    else:
        argv = how.split() + [src.cache, dst]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    is_(p.returncode, 0, "%s of the cache root" % how) or diag(p.stderr)
    if root_user:
        p = subprocess.run(["chown", "-R", "nobody:nogroup", dst],
                           capture_output=True, text=True, timeout=60)
        is_(p.returncode, 0, "chown -R to the server's User")
    kept = [n for n in os.listxattr(os.path.join(dst, "docs", "a.pdf"))
            if n.startswith("user.zddc")]
    if how == "rsync -a":
        is_(kept, [], "rsync -a drops the xattrs (the README says so)")
    else:
        is_(sorted(kept), sorted(XATTR), "%s keeps the xattrs" % how)
    moved = Apache(cache_conf(m2).replace("{cache}", dst))
    rc, out = moved.configtest()
    is_(rc, 0, "%s: apachectl configtest accepts the new ZddcCacheRoot" % how) \
        or diag(out)
    moved.start()
    m2.clear_log()
    r = moved.get(DOC)
    is_((r.status, r.body, r.header("X-Zddc-Cache")),
        (200, b"%PDF a", "REVALIDATED"),
        "%s: the copy is served, revalidated with a 304" % how)
    is_(["if-modified-since" in e["headers"] for e in m2.requests("GET", DOC)],
        [True], "%s: one conditional GET, answered 304 (mtimes were kept)"
        % how)
    moved.stop()
    if how == "mv":
        ok(not os.path.exists(src.cache), "mv left nothing behind")

done_testing()
