#!/usr/bin/python3
# SPEC §4/§8: nothing from the upstream becomes Apache configuration (an
# upstream .htaccess is never written, a .htaccess in the cache root is never
# read), .zddc-* names are reserved (404, never fetched or served), and no
# encoded traversal reads or writes outside the cache root.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
SPEC = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
EVIL_HTACCESS = b"SetHandler server-status\nRequire all granted\n"

m = master()
m.put_file(SPEC, b"%PDF-1.4 spec", mtime=T0)
m.put_file(TRN + "/.htaccess", EVIL_HTACCESS, mtime=T0)
m.put_file(PROJ + "/.htaccess", EVIL_HTACCESS, mtime=T0)
m.put_file(TRN + "/.zddc-evil.pdf", b"reserved", mtime=T0)
m.put_file(TRN + "/.zddc-listing.json", b'[{"name":"x","is_dir":false}]',
           mtime=T0)
m.set_mtime(TRN, T0)

# AllowOverride All on / so that a .htaccess read from the cache root would
# take effect: the test can only pass if the module never lets it be read.
a = Apache(cache_conf(m), server_conf="<Directory />\n    AllowOverride All\n"
                                      "</Directory>\n").start()
on_disk = a.on_disk


def everything_under(top, skip=()):
    out = {}
    for dirpath, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs
                   if os.path.join(dirpath, d) not in skip]
        for n in files + dirs:
            p = os.path.join(dirpath, n)
            try:
                st = os.lstat(p)
                out[p] = (st.st_size, st.st_mtime_ns)
            except OSError:
                pass
    return out


def all_names_in_cache():
    names = []
    for dirpath, dirs, files in os.walk(a.cache):
        names += files + dirs
    return names


# --- upstream .htaccess ------------------------------------------------------------
is_(a.get(SPEC).status, 200, "precondition: a normal file is served")
r = a.get(TRN + "/.htaccess")
is_(r.status, 404, "GET dir/.htaccess -> 404")
ok(EVIL_HTACCESS not in r.body, "GET dir/.htaccess: the content is not served")
r = a.get(PROJ + "/.htaccess")
is_(r.status, 404, "GET of another upstream .htaccess -> 404")
is_(a.head(TRN + "/.htaccess").status, 404, "HEAD dir/.htaccess -> 404")
r = a.get(TRN + "/", headers={"Accept": "application/json"})
is_(r.status, 200, "listing of a directory holding .htaccess upstream: 200")
is_([n for n in all_names_in_cache() if n == ".htaccess"], [],
    "no .htaccess is ever written under the cache root")
r = a.get(SPEC)
is_(r.status, 200, "files next to an upstream .htaccess are still served")

# A .htaccess planted in the cache root (as if it had been written) is never
# read: a syntax error in it would make every request below a 500.
with open(os.path.join(on_disk(TRN), ".htaccess"), "w") as f:
    f.write("ThisIsNotADirective at all\nRequire all denied\n")
r = a.get(SPEC)
is_(r.status, 200, "a .htaccess inside the cache root is never read (GET of "
    "a file in that directory still 200)")
r = a.get(TRN + "/", headers={"Accept": "application/json"})
is_(r.status, 200, "a .htaccess inside the cache root: the listing still 200")
unlike(a.error_log(), r"ThisIsNotADirective|\.htaccess: Invalid command",
       "the error log shows no attempt to parse the planted .htaccess")
os.unlink(os.path.join(on_disk(TRN), ".htaccess"))

# --- reserved .zddc-* names ---------------------------------------------------------
m.clear_log()
reserved = [
    TRN + "/.zddc-listing.json",
    TRN + "/.zddc-listing.html",
    "/.zddc-cache",
    "/.zddc-mirror-state.json",
    TRN + "/.zddc-cache-tmp-12345",
    TRN + "/.zddc-evil.pdf",
    "/.zddc-anything/below.pdf",
]
ok(os.path.isfile(os.path.join(on_disk(TRN), ".zddc-listing.json")),
   "precondition: the JSON sidecar exists on disk")
for path in reserved:
    r = a.get(path)
    is_(r.status, 404, "GET %s -> 404" % path)
    ok(b'"is_dir"' not in r.body and b"reserved" not in r.body,
       "GET %s: no sidecar or upstream content served" % path)
r = a.request("DELETE", TRN + "/.zddc-listing.json")
is_(r.status, 404, "DELETE of a .zddc-* name -> 404")
ok(os.path.isfile(os.path.join(on_disk(TRN), ".zddc-listing.json")),
   "DELETE of a .zddc-* name does not drop the sidecar")
r = a.get(TRN + "/.zddc-listing.json", query="x=1")
is_(r.status, 404, "GET .zddc-* with a query string -> 404")
is_([e["path"] for e in m.requests() if ".zddc-" in (e["path"] or "")], [],
    ".zddc-* names are never fetched from the master")
is_(sorted(n for n in all_names_in_cache() if n.startswith(".zddc-")
           and n not in (".zddc-cache", ".zddc-listing.json",
                         ".zddc-listing.html")), [],
    "no reserved name from upstream was written into the cache")
ok(os.path.isfile(os.path.join(a.cache, ".zddc-cache")),
   "the .zddc-cache marker is untouched")

# --- encoded traversal --------------------------------------------------------------
SKIP = {a.cache, os.path.join(a.root, "logs"), os.path.join(a.root, "run")}
outside_before = everything_under(a.root, skip=SKIP)
passwd_before = os.stat("/etc/passwd")
canary = os.path.join(a.root, "canary.pdf")
with open(canary, "w") as f:
    f.write("outside the cache root\n")
outside_before[canary] = (os.stat(canary).st_size, os.stat(canary).st_mtime_ns)
m.clear_log()
for raw in ("/%2e%2e/%2e%2e/etc/passwd",
            "/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
            "/a/..%2f..%2fetc%2fpasswd",
            "/a/..%2f..%2f..%2fcanary.pdf",
            "/a/%2e%2e/%2e%2e/canary.pdf",
            "/a/..%5c..%5ccanary.pdf",
            "/%2e%2e%2f%2e%2e%2fetc/passwd",
            "/a/.%2e/.%2e/.%2e/etc/passwd"):
    r = a.get(raw, raw=True)
    ok(r.status in (400, 403, 404),
       "traversal %s -> 400/403/404" % raw, "got %r" % r)
    ok(b"root:x:0:0" not in r.body and b"outside the cache root" not in r.body,
       "traversal %s: no file from outside the cache root is served" % raw)
    r = a.request("DELETE", raw, raw=True)
    ok(r.status in (400, 403, 404, 405) or r.status >= 500,
       "traversal DELETE %s is refused" % raw, "got %r" % r)
ok(os.path.isfile(canary), "traversal: the canary outside the cache root "
   "still exists")
is_(everything_under(a.root, skip=SKIP),
    outside_before, "traversal: nothing outside the cache root was created, "
    "changed or removed")
st = os.stat("/etc/passwd")
ok(st.st_mtime_ns == passwd_before.st_mtime_ns
   and st.st_size == passwd_before.st_size, "/etc/passwd untouched")
is_([e["path"] for e in m.requests()
     if e["path"] and ".." in e["path"].split("/")], [],
    "traversal: no '..' path was sent upstream")

done_testing()
