#!/usr/bin/python3
# Issue 10 (the store is a real provider, STYLE "The boundary carries
# objects, not paths"): only zddc_store_disk.c reaches the cache root's
# files. No other source of the module calls a file-system function on a
# cache object or names a file of the store, and zddc_store.h hands out no
# path, so a second provider could be written without touching the callers.
import glob
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

MODULES = os.path.join(REPO, "modules")
PROVIDER = "zddc_store_disk.c"

# File-system calls. A member call (sp->open, ->stat) is a provider
# operation, not one of these.
FS_CALL = re.compile(
    r"(?<![\w>.])(apr_file_open|apr_file_remove|apr_file_rename|"
    r"apr_file_copy|apr_file_append|apr_file_mktemp|apr_file_attrs_set|"
    r"apr_file_mtime_set|apr_stat|apr_lstat|apr_dir_\w+|"
    r"open|openat|creat|fopen|opendir|fdopendir|scandir|nftw|ftw|"
    r"unlink|unlinkat|remove|rename|renameat2?|link|linkat|symlink|"
    r"stat|lstat|fstatat|statx|access|faccessat|truncate|mkdir|mkdirat|"
    r"rmdir|chmod|fchmodat|chown|lchown|fchownat|utimes|utimensat|"
    r"futimens|[lf]?[gs]etxattr|[lf]?removexattr|realpath)\s*\(")

# Files outside the store that the module does read, each with its reason:
# (source, enclosing function) -> why.
ALLOWED = {
    ("zddc_rootcheck.c", "*"):
        "configtest's checks of the cache root directory itself, before "
        "any store is opened (SPEC 4)",
    ("zddc_config.c", "zddc_config_read_token"): "ZddcUpstreamBearerFile",
    ("zddc_upstream.c", "read_pem"): "ZddcUpstreamClientCert/Key",
    ("mod_zddc_mirror.c", "check_readable"): "the upstream's proxy and "
        "certificate files",
    ("mod_zddc_mirror.c", "read_proxy_auth"): "ZddcUpstreamProxyAuthFile",
    ("mod_zddc_mirror.c", "zddc_check_config"): "ZddcUpstreamCAFile",
}

# The names the disk provider gives its files (SPEC 4).
STORE_NAMES = re.compile(r"\.zddc-(listing|mirror-state|report|meta|"
                         r"cache-tmp)|ZDDC_(SIDECAR_\w+|STATE_FILE|"
                         r"REPORT_PREFIX|META_DIR|TMP_PREFIX)\b")


def strip_comments(text):
    """Comments blanked (line numbers kept); strings kept."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r"/\*.*?\*/|//[^\n]*", blank, text, flags=re.S)


def functions(code):
    """(start offset, name) of each function definition at column 0."""
    found = []
    for m in re.finditer(r"^[A-Za-z_][\w \t\*]*?\b(\w+)\s*\([^;{]*?\)\s*\{",
                         code, re.M | re.S):
        found.append((m.start(), m.group(1)))
    return found


def enclosing(funcs, offset):
    name = None
    for start, fname in funcs:
        if start > offset:
            break
        name = fname
    return name


sources = sorted(glob.glob(os.path.join(MODULES, "*.c"))) + \
    [os.path.join(REPO, "mod_zddc_mirror.c")]
ok(len(sources) > 10, "the module's sources are found (%d)" % len(sources))
ok(os.path.exists(os.path.join(MODULES, PROVIDER)),
   "the disk provider is %s" % PROVIDER)

fs_calls, names, includes = [], [], []
for path in sources:
    base = os.path.basename(path)
    if base == PROVIDER:
        continue
    with open(path) as f:
        code = strip_comments(f.read())
    funcs = functions(code)
    for m in FS_CALL.finditer(code):
        fn = enclosing(funcs, m.start())
        if (base, "*") in ALLOWED or (base, fn) in ALLOWED:
            continue
        line = code.count("\n", 0, m.start()) + 1
        fs_calls.append("%s:%d in %s(): %s()" % (base, line, fn, m.group(1)))
    for m in STORE_NAMES.finditer(code):
        if base == "zddc_rootcheck.c":
            continue
        line = code.count("\n", 0, m.start()) + 1
        names.append("%s:%d: %s" % (base, line, m.group(0)))
    if base != "zddc_rootcheck.c" and \
            re.search(r'#include\s+"zddc_store_disk\.h"', code):
        includes.append(base)

is_(fs_calls, [], "no source but the provider calls a file-system function "
    "on the store's files (only the allowed configuration files are read)")
is_(names, [], "no source but the provider names a file of the store")
is_(includes, [], "no source but the provider (and the root check) sees the "
    "provider's file names")

with open(os.path.join(MODULES, "zddc_store.h")) as f:
    header = strip_comments(f.read())
ok(not re.search(r"\bfs_path\b|\bpath\b\s*[,)]", header),
   "zddc_store.h takes no path of a file")
ok(not re.search(r"\(\s*\*\s*(map|root)\s*\)", header),
   "zddc_store.h has no operation mapping to a path or giving the root")
ok(not re.search(r'"\.zddc-[a-z]', header),
   "zddc_store.h names no file of the store")
# Every operation on one object takes the object, never a string naming it.
ops = re.findall(r"\(\s*\*\s*(\w+)\s*\)\s*\(([^;]*)\);", header, re.S)
ok(len(ops) > 15, "the provider's operations are found (%d)" % len(ops))
by_obj = [name for name, args in ops if "zddc_store_obj" in args]
for name in ("stat", "open", "begin", "put", "get", "touch", "validated_at",
             "meta_get", "meta_set", "remove"):
    ok(name in by_obj, "%s() takes a zddc_store_obj" % name)
ok("obj" in [name for name, _ in ops],
   "objects are had from (url path, kind) through obj()")

done_testing()
