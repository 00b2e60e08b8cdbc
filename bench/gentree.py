# Generates the benchmark upstream's document tree: files with fixed mtimes,
# plus a pre-generated JSON and HTML listing in every directory, so a plain
# httpd can play a ZDDC master (SPEC §2) without being the bottleneck.
"""Tree layout (under ROOT):

  hot/            f4k.bin (4 KiB), f1m.bin (1 MiB)           P1, P2, P7
  big/            f256m.bin, f64m.bin (sparse), f4k.bin      P3, P8
  w10k/           10 dirs x (1 + 49 subdirs) = 500 dirs, 20 files in each,
                  10,000 files of 512 B .. 16 KiB             P4, P5
  w100k/          1,000 dirs, 100 files of 100 B in each      P6

Every directory D (including ROOT) holds D/.listing.json (SPEC §2: a JSON
array of {name, is_dir, size, mod_time}) and D/.listing.html; the upstream
httpd serves them for D/ by the request's Accept header (mod_rewrite).
Names look like real ZDDC names (spaces, parentheses), so percent-encoding
is exercised on every request.

Usage: gentree.py ROOT   (re-generates only when the stamp does not match)
"""

import html
import json
import os
import random
import shutil
import sys
import time
import urllib.parse

# Bump when the layout changes: a stale tree is then rebuilt.
TREE_VERSION = "zddc-bench-tree v1"
STAMP = ".bench-tree-stamp"
# Every file and listing carries this mtime, so Last-Modified and the
# listing's mod_time agree to the second, as on a real master.
MTIME = 1761912000  # 2025-10-31T12:00:00Z
LISTING_JSON = ".listing.json"
LISTING_HTML = ".listing.html"

W10K_TOP, W10K_SUB, W10K_FILES = 10, 49, 20        # 500 dirs, 10,000 files
W100K_TOP, W100K_SUB, W100K_FILES = 10, 99, 100    # 1,000 dirs, 100,000 files
W100K_SIZE = 100
SIZES = {"hot/f4k.bin": 4096, "hot/f1m.bin": 1 << 20, "big/f4k.bin": 4096}
SPARSE = {"big/f256m.bin": 256 << 20, "big/f64m.bin": 64 << 20}


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def dir_name(i, j=None):
    if j is None:
        return "2025-10-%02d_123456-EL-TRN-%04d (IFR) - Transmittal" % (
            1 + i % 28, i)
    return "123456-%s-PKG-%04d (IFC) - Package %d" % (
        ("EL", "ME", "CV", "PI")[j % 4], j, j)


def file_name(k, ext="pdf"):
    disc = ("EL", "ME", "CV", "PI", "IN")[k % 5]
    return "123456-%s-SPC-%04d_%s (IFC) - Pump Spec %d.%s" % (
        disc, 2000 + k, "ABC"[k % 3], k, ext)


class Gen:
    def __init__(self, root):
        self.root = root
        self.rng = random.Random(4)
        self.block = bytes(self.rng.getrandbits(8) for _ in range(1 << 16))

    def data(self, size):
        out = bytearray()
        while len(out) < size:
            off = self.rng.randrange(0, len(self.block))
            out += self.block[off:off + size - len(out)]
        return bytes(out)

    def write(self, rel, size, sparse=False):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            if sparse:
                f.truncate(size)
            else:
                f.write(self.data(size))
        os.utime(path, (MTIME, MTIME))


def write_listings(root):
    """Write .listing.json/.html into every directory below root."""
    for d, subdirs, files in os.walk(root):
        entries = []
        for n in sorted(subdirs):
            if not n.startswith("."):
                entries.append({"name": n, "is_dir": True, "size": 0,
                                "mod_time": rfc3339(MTIME)})
        for n in sorted(files):
            if not n.startswith("."):
                st = os.stat(os.path.join(d, n))
                entries.append({"name": n, "is_dir": False,
                                "size": st.st_size,
                                "mod_time": rfc3339(int(st.st_mtime))})
        rel = "/" + os.path.relpath(d, root).replace(os.sep, "/") + "/"
        rel = "/" if rel == "/./" else rel
        items = "".join(
            '<li><a href="%s">%s</a></li>\n'
            % (html.escape(urllib.parse.quote(e["name"])
                           + ("/" if e["is_dir"] else "")),
               html.escape(e["name"])) for e in entries)
        for name, body in (
                (LISTING_JSON, json.dumps(entries, separators=(",", ":"))),
                (LISTING_HTML, "<!DOCTYPE html>\n<html><head><title>%s"
                 "</title></head><body><h1>%s</h1>\n<ul>\n%s</ul></body>"
                 "</html>\n" % (html.escape(rel), html.escape(rel), items))):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(body)
            os.utime(p, (MTIME, MTIME))


def generate(root):
    g = Gen(root)
    for rel, size in SIZES.items():
        g.write(rel, size)
    for rel, size in SPARSE.items():
        g.write(rel, size, sparse=True)
    write_walk_tree(g, "w10k", W10K_TOP, W10K_SUB, W10K_FILES)
    k = 0
    payload = b"x" * W100K_SIZE
    for i in range(W100K_TOP):
        top = os.path.join(root, "w100k", "d%02d" % i)
        for j in range(W100K_SUB + 1):
            d = top if j == 0 else os.path.join(top, "s%03d" % j)
            os.makedirs(d, exist_ok=True)
            for _ in range(W100K_FILES):
                p = os.path.join(d, file_name(k, "txt"))
                with open(p, "wb") as f:
                    f.write(payload)
                os.utime(p, (MTIME, MTIME))
                k += 1
    finish(root)


def write_walk_tree(g, sub, ntop, nsub, nfiles):
    """sub/: ntop directories, each with nsub subdirectories, nfiles files
    of 512 B-16 KiB in every one of them (what the walk rows walk)."""
    k = 0
    for i in range(ntop):
        top = os.path.join(sub, dir_name(i))
        for j in range(nsub + 1):
            d = top if j == 0 else os.path.join(top, dir_name(i, j))
            for _ in range(nfiles):
                g.write(os.path.join(d, file_name(k)),
                        g.rng.randrange(512, 16385))
                k += 1


def finish(root):
    """The listings of every directory, and every directory's mtime."""
    write_listings(root)
    for d, _, _ in os.walk(root):
        os.utime(d, (MTIME, MTIME))


def ensure(root, generator=generate, version=TREE_VERSION):
    """Make the tree at root with generator(root) unless a stamp of this
    version says it is there; True when it was made."""
    stamp = os.path.join(root, STAMP)
    try:
        with open(stamp) as f:
            if f.read().strip() == version:
                return False
    except OSError:
        pass
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root, mode=0o755)
    generator(root)
    with open(stamp, "w") as f:
        f.write(version + "\n")
    return True


def subtree_stats(root, sub):
    """Directories (listings, the subtree's own included), files, listing
    JSON bytes and file bytes of root/sub: what the seed's walk costs."""
    dirs = files = lbytes = fbytes = 0
    for d, subdirs, names in os.walk(os.path.join(root, sub)):
        dirs += 1
        for n in names:
            size = os.path.getsize(os.path.join(d, n))
            if n == LISTING_JSON:
                lbytes += size
            elif not n.startswith("."):
                files += 1
                fbytes += size
    return {"dirs": dirs, "files": files, "listing_bytes": lbytes,
            "file_bytes": fbytes}


def file_urls(root, sub):
    """Every file URL (percent-encoded) of root/sub, sorted."""
    out = []
    for d, subdirs, names in os.walk(os.path.join(root, sub)):
        rel = "/" + os.path.relpath(d, root).replace(os.sep, "/")
        for n in names:
            if not n.startswith("."):
                out.append(urllib.parse.quote(rel + "/" + n))
    return sorted(out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    t0 = time.monotonic()
    made = ensure(sys.argv[1])
    print("%s %s in %.1fs" % (sys.argv[1], "generated" if made else "up to date",
                             time.monotonic() - t0))
