#!/usr/bin/python3
# Issue 9, SPEC §3: the CA file of an https upstream is parsed once per
# process, not per reused handle and per walk. One event-MPM child, an
# https fake master, ZddcUpstreamCAFile: strace on the child counts the
# opens of the CA file over a MISS, sequential and concurrent
# revalidations and two walks: one. A CA file of another CA refuses the
# master (502/504, nothing stored); a CA file that is not PEM fails every
# transfer the same way, logged with a ZDDC id and the file named, and
# never falls back to an unverified connection.
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

STRACE = shutil.which("strace")
if not STRACE or not shutil.which("openssl"):
    skip_all("strace or the openssl tool is not installed")

T0 = 1700000000
DOCS = "/Docs"
FILES = ["%s/d%d/123456-EL-SPC-%04d_A (IFC) - Spec.pdf" % (DOCS, i % 3, i)
         for i in range(9)]
pki = test_pki()
work = tempdir("zddc-ca-once-")
os.chmod(work, 0o755)


def pem(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)   # read by the child (User nobody)
    return path


with open(pki["ca"]) as f:
    CA = pem("upstream-ca.pem", f.read())   # a name nothing else opens

m = master(acl={"tok": ["/"]}, bearer="tok", scheme="https")
for i, path in enumerate(FILES):
    m.put_file(path, b"%%PDF-1.4 spec %d\n" % i + b"x" * (3000 + i), mtime=T0)
for d in ("/d0", "/d1", "/d2", ""):
    m.set_mtime(DOCS + d, T0)

ONE_CHILD = ("StartServers 1\nServerLimit 1\nMaxRequestWorkers 16\n"
             "MinSpareThreads 1\nMaxSpareThreads 16\n")
a = Apache(mirror_conf(m, """\
ZddcUpstreamCAFile %s
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1s
ZddcUpstreamTimeout 10s
""" % CA), server_conf=ONE_CHILD)
a.start()
ok(wait_until(lambda: len(a.child_pids()) == 1, 10),
   "one child serves", a.child_pids())
child = a.child_pids()[0]

# --- strace on the child, attached before its first upstream request ----
st = Strace(child, "open,openat")
ok(st.attached, "strace attached to the child")


def walks():
    return re.findall(r"walk of /Docs finished in \S+: (.*)", a.error_log())


# the request path: a MISS, then revalidations one after another and at once
r = a.get(FILES[0])
is_((r.status, r.header("X-Zddc-Cache")), (200, "MISS"), "first GET: MISS")
states = [a.get(FILES[0]).header("X-Zddc-Cache") for _ in range(4)]
is_(states, ["REVALIDATED"] * 4, "four revalidations in a row")
res = at_once(6, lambda i: a.get(FILES[1 + i]))
is_([getattr(x, "status", x) for x in res], [200] * 6,
    "six GETs at once over six handles: 200")
ok(wait_until(lambda: all(a.disk(f) for f in FILES[1:7]), 10),
   "the six copies are stored")
res = at_once(6, lambda i: a.get(FILES[1 + i]))
# 200 is what matters here (the verdict of a request that overlaps another
# one's publication may be MISS): each went through the child's handles
is_([getattr(x, "status", x) for x in res], [200] * 6,
    "six revalidations at once: 200")
note("verdicts: %s" % [getattr(x, "header", lambda n: x)("X-Zddc-Cache")
                       for x in res])

# two walks, each its own session
a.get(DOCS + "/")
ok(wait_until(lambda: len(walks()) == 1, 20), "first walk ran",
   a.error_log_tail())
like(walks()[0] if walks() else "", r"files=9 .*errors=0",
     "the first walk saw every file without errors")
deadline = time.monotonic() + 20
while len(walks()) < 2 and time.monotonic() < deadline:
    a.get(DOCS + "/")      # triggers the next walk once MinInterval passed
    wait_until(lambda: len(walks()) >= 2, 0.5)
ok(len(walks()) >= 2, "second walk ran", a.error_log_tail())
like(walks()[1] if len(walks()) > 1 else "", r"errors=0",
     "the second walk ran without errors")

lines = st.lines()
ca_opens = [ln for ln in lines if '"%s"' % CA in ln]
ok(any(a.cache in ln for ln in lines),
   "precondition: the trace shows the child opening its cache files",
   "\n".join(lines[:20]))
is_(len(ca_opens), 1, "the CA file was opened once by the child, for "
    "every connection, handle and walk", )
if len(ca_opens) != 1:
    diag("\n".join(ca_opens))
is_(a.child_pids(), [child], "still the same one child")
a.stop()


def nothing_cached(x):
    found = []
    for d, _, files in os.walk(x.cache):
        found += [f for f in files if not f.startswith(".zddc-")]
    return found


def refused(x, what, path):
    m.clear_log()
    r = x.get(path)
    ok(r.status in (502, 504) and r.header("X-Zddc-Cache") == "MISS",
       "%s: 502/504 MISS" % what, "got %r %s" % (r, r.text[:200]))
    ok(b"spec" not in r.body, "%s: the master's body is not relayed" % what)
    is_(m.count("GET", path=path), 0,
        "%s: no request reached the master (TLS refused first)" % what)
    is_(nothing_cached(x), [], "%s: nothing stored" % what)


# --- a CA file of another CA: the master is refused -------------------------
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-sha256", "-days", "2", "-subj", "/CN=zddc other CA",
                "-keyout", os.path.join(work, "other.key"),
                "-out", os.path.join(work, "other.pem")],
               check=True, timeout=60, stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL)
os.chmod(os.path.join(work, "other.pem"), 0o644)
VHOST = "ZddcUpstreamCAFile %s\nZddcUpstreamTimeout 5s\n"
b = Apache(cache_conf(m, VHOST % os.path.join(work, "other.pem"),
                      token="tok"))
b.start()
refused(b, "another CA", FILES[0])
refused(b, "another CA, again", FILES[1])
like(b.error_log(), r"ZDDC\d+: upstream unreachable for .*certificate",
     "another CA: the log says it is the certificate")
b.stop()

# --- a CA file that is not PEM: every transfer fails, clearly --------------
bad = pem("garbage-ca.pem", "this is not a certificate\n")
c = Apache(cache_conf(m, VHOST % bad, token="tok"))
rc, out = c.configtest()
is_(rc, 0, "configtest passes: the file exists (it is parsed at first use)")
c.start()
refused(c, "unparsable CA file", FILES[2])
refused(c, "unparsable CA file, again", FILES[3])
like(c.error_log(), r"ZDDC\d+: upstream unreachable for .*cannot load the "
     r"CA certificates of file .*garbage-ca\.pem",
     "unparsable CA file: logged with a ZDDC id, naming the file")
c.stop()

done_testing()
