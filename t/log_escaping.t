#!/usr/bin/python3
# Issue 12 (SPEC §8): a client chooses the request's path, and a master an
# entry's name; the module writes both into error log lines. httpd 2.4
# escapes every error log message itself (ap_escape_errorlog_item, unless
# built with AP_UNSAFE_ERROR_LOG_UNESCAPED), so a path with an encoded
# newline or escape character cannot forge a line or reach a terminal, and
# the module must not escape again (ap_escape_logitem on top doubled every
# backslash: "\\n" for one newline).
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

FORGED = "ZDDC09999: forged line"
m = master()
m.put_file("/docs/a.pdf", b"%PDF a")
a = Apache(cache_conf(m)).start()

# The master goes away: each of these paths is logged by the pipeline
# ("upstream unreachable for %s", a warning).
m.stop()
paths = ["/docs/x%0a" + FORGED.replace(" ", "%20") + ".pdf",
         "/docs/y%0d%0a[zddc_mirror:error]%20" + FORGED.replace(" ", "%20"),
         "/docs/z%1b[31mred.pdf"]
for p in paths:
    r = a.get(p, raw=True)
    ok(r.status in (502, 504), "master down: %s answers %d" % (p, r.status))

wait_until(lambda: len(re.findall(r"upstream unreachable for",
                                  a.error_log())) >= len(paths), 10)
log = a.error_log()
is_(len(re.findall(r"upstream unreachable for", log)), len(paths),
    "each request was logged")
unlike(log, r"(?m)^" + re.escape(FORGED), "no line starts with the forged "
       "text")
unlike(log, r"(?m)^\[zddc_mirror:error\] ", "no forged line with a level")
ok("\x1b" not in log, "no raw escape character reached the log")
like(log, r"upstream unreachable for /docs/x\\n" + re.escape(FORGED),
     "the newline is written escaped once, on the request's own line")
like(log, r"upstream unreachable for /docs/z\\x1b\[31mred\.pdf",
     "the escape character is written as \\x1b")
a.stop()

# A walk skips a reserved name the master lists; the name has a newline.
EVIL = ".zddc-x\nZDDC09998: forged by a master"
m.start()
m.put_file("/Docs/ok.pdf", b"%PDF ok")
m.put_file("/Docs/" + EVIL, b"evil")
w = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
<Location /zddc-status>
    SetHandler zddc-status
</Location>
""", token="test-token")).start()
like(walk_now(w, "/Docs"), r"finished in", "the walk of /Docs finished")
log = w.error_log()
like(log, r'skipping the entry "\.zddc-x\\nZDDC09998: forged by a master" '
     r'of /Docs/', "the skipped name is logged escaped once")
unlike(log, r"(?m)^ZDDC09998", "and forges no line")

# A purge from the status page names the path it was asked for.
r = w.request("POST", "/zddc-status", body=b"action=purge&path=/Docs/a%0a"
              b"ZDDC09997%3a%20forged", headers={
                  "Content-Type": "application/x-www-form-urlencoded",
                  "Origin": "http://127.0.0.1:%d" % w.port,
                  "Accept": "application/json"})
ok(r.status in (200, 404), "a purge of an odd path is answered (%d)"
   % r.status)
ok(w.wait_log(r"status page action purge of /Docs/a\\nZDDC09997: forged", 10),
   "the purge's path is logged escaped once", w.error_log_tail())
unlike(w.error_log(), r"(?m)^ZDDC09997|\\\\n", "no forged line, no doubled "
       "backslash")

done_testing()
