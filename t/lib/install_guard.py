# The install and package tests' proof that they left the machine's own
# Apache alone: snapshots of its trees, and what differs between two.
import os

MACHINE_TREES = ("/etc/apache2", "/var/lib/apache2", "/usr/lib/apache2/modules")


def machine_apache_snapshot(trees=MACHINE_TREES):
    """{path: (mode, size, mtime_ns, link target)} for every entry under the
    machine's Apache configuration, a2enmod state and module directory."""
    snap = {}

    def add(path):
        try:
            st = os.lstat(path)
        except OSError:
            return
        target = os.readlink(path) if os.path.islink(path) else None
        snap[path] = (st.st_mode, st.st_size, st.st_mtime_ns, target)

    for top in trees:
        add(top)
        for d, dirs, names in os.walk(top):
            for n in dirs + names:
                add(os.path.join(d, n))
    return snap


def snapshot_changes(before, after):
    """Sorted paths added, removed or rewritten between two snapshots."""
    return sorted(p for p in set(before) | set(after)
                  if before.get(p) != after.get(p))
