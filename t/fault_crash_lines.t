#!/usr/bin/python3
# t/lib/fault_load.py's crash check: a child crash between the fault's
# SIGTERM and that parent's "caught SIGTERM" line (httpd's event MPM stop
# race) is reported apart; any other crash fails the fault tests.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from fault_load import crash_lines  # noqa: E402

START = "[mpm_event:notice] [pid 9159] AH00489: Apache configured -- resuming"
SEGV = ("[core:notice] [pid 9159] AH00051: child pid 9287 exit signal "
        "Segmentation fault (11), possible coredump in /tmp/core")
STOP = "[mpm_event:notice] [pid 9159] AH00491: caught SIGTERM, shutting down"
WALK = "[zddc_mirror:info] ZDDC01043: walk of /Docs queued"

is_(crash_lines("\n".join([START, WALK, SEGV, STOP]), "sigterm", "event"),
    ([], [SEGV]), "a crash followed by the parent's own SIGTERM line: "
    "the event MPM's stop race")
is_(crash_lines("\n".join([START, SEGV, WALK, STOP, START]), "sigterm",
                "event"), ([], [SEGV]), "log lines between do not matter")
is_(crash_lines("\n".join([START, SEGV, START, STOP]), "sigterm", "event"),
    ([SEGV], []), "a crash followed by a new start is a crash")
is_(crash_lines("\n".join([START, SEGV]), "sigterm", "event"),
    ([SEGV], []), "a crash with no stop after it is a crash")
is_(crash_lines("\n".join([START, SEGV, STOP]), "sigterm", "prefork"),
    ([SEGV], []), "under prefork every crash is a crash")
is_(crash_lines("\n".join([START, SEGV, STOP]), "sigkill", "event"),
    ([SEGV], []), "under other faults every crash is a crash")
is_(crash_lines("\n".join([START, WALK, STOP]), "sigterm", "event"),
    ([], []), "no crash, nothing reported")

done_testing()
