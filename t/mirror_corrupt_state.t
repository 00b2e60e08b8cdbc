#!/usr/bin/python3
# Mirror mode (SPEC §4): a corrupt state file means "never walked" (logged at
# startup), and is rewritten after the next walk; unknown subtrees are kept.
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/a.pdf", b"a", mtime=T0)

VHOST = mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorMinInterval 1h
""")
a = Apache(VHOST)
os.makedirs(a.cache)
open(os.path.join(a.cache, ".zddc-cache"), "w").close()
state_path = os.path.join(a.cache, ".zddc-mirror-state.json")
with open(state_path, "w") as f:
    f.write('{"subtrees": {"/Docs": {"last_walk_at": "2099-01-01T00:0')
os.chmod(a.cache, 0o777)

a.start()
ok(a.wait_log(r"\[zddc_mirror:warn\].*mirror state file .*"
              r"\.zddc-mirror-state\.json is unusable .*never walked", 10),
   "the corrupt state file is reported at startup", a.error_log_tail())
a.get("/Docs/a.pdf")
ok(a.wait_log(r"walk of /Docs finished", 15),
   "the subtree counts as never walked: a request walks it",
   a.error_log_tail())
with open(state_path) as f:
    text = f.read()
try:
    state = json.loads(text)
except ValueError:
    state = None
ok(state is not None, "the state file was rewritten as valid JSON", text)
ok(state and re.match(r"20\d\d-", state["subtrees"]["/Docs"]
                      ["last_walk_at"]), "with the walk's time", text)

# A valid file naming a subtree this server does not walk keeps that entry.
a.stop()
with open(state_path, "w") as f:
    json.dump({"subtrees": {
        "/Docs": {"last_walk_at": "2001-01-01T00:00:00Z"},
        "/Elsewhere": {"last_walk_at": "2002-02-02T02:02:02Z", "note": 1}}},
        f)
a.start()
a.get("/Docs/a.pdf")
ok(wait_until(lambda: len(re.findall(r"walk of /Docs finished",
                                     a.error_log())) == 2, 15),
   "an old last_walk_at is due: walked again")
with open(state_path) as f:
    state = json.load(f)
is_(state["subtrees"].get("/Elsewhere", {}).get("last_walk_at"),
    "2002-02-02T02:02:02Z", "the entry of an unconfigured subtree is kept")
isnt(state["subtrees"]["/Docs"]["last_walk_at"], "2001-01-01T00:00:00Z",
     "the walked subtree's entry is updated")

missing = Apache(VHOST)
missing.start()
ok(missing.wait_log(r"\[zddc_mirror:info\].*no mirror state file .* yet",
                    10), "a missing state file is reported at info level",
   missing.error_log_tail())

done_testing()
