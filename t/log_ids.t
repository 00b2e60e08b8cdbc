#!/usr/bin/python3
# Issue 12: every log message of the module carries a stable id
# (ZDDC_LOGNO, like httpd's APLOGNO), ids are unique, each is listed in the
# README's log reference, and a real error log shows them.
import glob
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

CALL = re.compile(r"ap_log_(?:r|p|c)?error\(APLOG_MARK,(?:[^;]*?),\s*"
                  r"(ZDDC_LOGNO\((\d{5})\)\s*)?\"", re.S)
sources = [os.path.join(REPO, "mod_zddc_mirror.c")] + sorted(
    glob.glob(os.path.join(REPO, "modules", "*.c")))
calls, missing, ids = 0, [], []
for path in sources:
    with open(path) as f:
        text = f.read()
    n = len(re.findall(r"ap_log_(?:r|p|c)?error\(", text))
    found = CALL.findall(text)
    calls += n
    for whole, ident in found:
        if ident:
            ids.append(ident)
    if n != len([x for x in found if x[1]]):
        missing.append("%s: %d calls, %d with an id"
                       % (os.path.basename(path), n,
                          len([x for x in found if x[1]])))
ok(calls > 50, "the module logs (%d calls found)" % calls)
is_(missing, [], "every log call starts its message with ZDDC_LOGNO(nnnnn)")
dups = sorted(set(i for i in ids if ids.count(i) > 1))
is_(dups, [], "no id is used twice")
with open(os.path.join(REPO, "README.md")) as f:
    readme = f.read()
unlisted = [i for i in ids if "`ZDDC%s`" % i not in readme]
is_(unlisted, [], "every id is listed in the README's log reference")

m = master()
m.put_file("/a.pdf", b"a", mtime=1700000000)
a = Apache(cache_conf(m)).start()
m.stop()
a.get("/a.pdf")
ok(a.wait_log(r"\[zddc_mirror:warn\].* ZDDC\d{5}: ", 10),
   "a real error log line carries its id", a.error_log_tail())
a.stop()

done_testing()
