#!/usr/bin/python3
# Mirror mode (SPEC §6.4): an unusable listing entry (a NUL in its name, not
# an object, a missing/null/numeric name, a non-boolean is_dir, a lone
# surrogate, an unsafe name) is skipped on its own: its siblings are
# mirrored and purged as usual, and the log gets at most 20 lines of them
# per walk, then one line with the count.
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from fake_master import rfc3339  # noqa: E402

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/D/old.pdf", b"to be purged", mtime=T0)
m.put_file("/D/x.pdf", b"listed oddly later", mtime=T0)
m.put_file("/D/good.pdf", b"good", mtime=T0)
m.put_file("/D/sub/s.pdf", b"below", mtime=T0)

a = Apache(mirror_conf(m, "ZddcMirrorSubtree /D\nZddcMirrorMinInterval 1s\n"))
a.start()


def walks():
    return re.findall(r"walk of /D finished in \S+: (.*)", a.error_log())


a.get("/D/good.pdf")
ok(wait_until(lambda: len(walks()) == 1, 20), "first walk ran",
   a.error_log_tail())
ok(os.path.isfile(a.on_disk("/D/old.pdf")), "old.pdf mirrored at first")
ok(os.path.isfile(a.on_disk("/D/x.pdf")), "x.pdf mirrored at first")

# The master drops old.pdf, adds new.pdf, and its listing of /D/ turns odd.
m.remove("/D/old.pdf")
m.put_file("/D/new.pdf", b"new", mtime=T0)
good = [{"name": n, "is_dir": False, "size": len(m.read_file("/D/" + n)),
         "mod_time": rfc3339(T0)} for n in ("good.pdf", "new.pdf")]
raw = ('[%s, {"name": "evil\\u0000.pdf", "is_dir": false}, "just a string", '
       '17, {"is_dir": false}, {"name": null}, {"name": 5}, '
       '{"name": "x.pdf", "is_dir": "no"}, {"name": "lone \\ud800.pdf"}, '
       '{"name": "sub/", "is_dir": true}, %s, %s]'
       % (json.dumps(good[0]), ", ".join(['{"name": ".", "is_dir": false}']
                                          * 50), json.dumps(good[1])))
m.raw_listings["/D/"] = raw.encode()
log_before = len(a.error_log())
a.walk_when_due("/D", "/D/good.pdf")
ok(wait_until(lambda: len(walks()) == 2, 20), "second walk ran",
   a.error_log_tail())
ok(os.path.isfile(a.on_disk("/D/new.pdf")),
   "a sibling of the bad entries is mirrored")
ok(not os.path.lexists(a.on_disk("/D/old.pdf")),
   "what the listing no longer names is purged despite the bad entries")
is_(a.disk("/D/x.pdf"), b"listed oddly later",
    "an entry skipped for a bad is_dir does not cost its local copy")
ok(os.path.isfile(a.on_disk("/D/sub/s.pdf")), "the subdirectory stays")
like(walks()[-1], r"errors=0 ", "the walk had no errors")
log = a.error_log()[log_before:]
lines = re.findall(r"skipping the entry .*", log)
ok(0 < len(lines) <= 20, "at most 20 lines for skipped entries",
   "%d lines" % len(lines))
like(log, r"listing entries were skipped in all", "then one line with the "
     "count")
m_count = re.search(r"(\d+) listing entries were skipped in all", log)
is_(m_count and int(m_count.group(1)), 58,
    "the count covers every skipped entry (8 bad + 50 unsafe)")
like(log, r'skipping the entry "evil.*\.pdf" of /D/: a NUL',
     "a NUL in a name is named as the reason")
unlike(log, r"walk of /D: listing .* is not a valid JSON listing",
       "the listing itself was not refused")

done_testing()
