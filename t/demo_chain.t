#!/usr/bin/python3
# `make demo` (SPEC §9, §10; issue 11): the demo starts a master, a regional
# mirror and a site mirror, prints the three URLs, and the site serves the
# master's documents through the regional tier.
import os
import re
import signal
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

proc = subprocess.Popen(
    [sys.executable, os.path.join(REPO, "t", "lib", "demo.py"), "--module",
     os.path.join(os.environ.get("ZDDC_BUILD") or os.path.join(
         REPO, "build-san" if SANITIZE else "build"), "mod_zddc_mirror.so"),
     "--duration", "60"], stdout=subprocess.PIPE, text=True,
    env=dict(os.environ, PYTHONUNBUFFERED="1"))
# Blocking reads are bounded: the demo exits by itself after --duration.
out = ""
while "Following" not in out:
    line = proc.stdout.readline()
    if not line:
        break
    out += line
like(out, r"master\s+: http://127\.0\.0\.1:\d+/", "the master's URL")
like(out, r"regional mirror : http://127\.0\.0\.1:\d+/", "the regional URL")
like(out, r"site mirror\s+: http://127\.0\.0\.1:\d+/", "the site URL")
m = re.search(r"a file\s+: (\S+)", out)
ok(m, "a document URL is printed", out)
if m:
    with urllib.request.urlopen(m.group(1), timeout=20) as r:
        body, verdict = r.read(), r.headers.get("X-Zddc-Cache")
    like(body.decode("latin-1"), r"^%PDF-1\.4", "the site serves the document")
    is_(verdict, "MISS", "fetched through the regional tier")
proc.send_signal(signal.SIGTERM)
try:
    rest = proc.communicate(timeout=30)[0]
except subprocess.TimeoutExpired:
    proc.kill()
    rest = proc.communicate()[0]
like(rest, r"regional .*zddc_mirror", "the regional tier's log is followed")
like(rest, r"demo stopped\.", "the demo stops cleanly")
is_(proc.returncode, 0, "and exits 0")

done_testing()
