#!/usr/bin/python3
# t/lib/fault_load.py's crash check: a child crash between the fault's
# SIGTERM and that parent's "caught SIGTERM" line (httpd's stop races, event
# and prefork) is reported apart; any other crash fails the fault tests.
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

# prefork: a child aborted by glibc in its SIGTERM handler (just_die), from
# a run of t/fault_sigterm.t.
P_START = ("[mpm_prefork:notice] [pid 17671:tid 17671] AH00163: Apache/2.4.71 "
           "(Debian) configured -- resuming normal operations")
P_ABRT = ("[core:notice] [pid 17671:tid 17671] AH00052: child pid 17945 exit "
          "signal Abort (6)")
P_PID = ("[core:info] [pid 17671:tid 17671] AH00096: removed PID file "
         "/tmp/run/httpd.pid (pid=17671)")
P_STOP = ("[mpm_prefork:notice] [pid 17671:tid 17671] AH00169: caught "
          "SIGTERM, shutting down")
is_(crash_lines("\n".join([P_START, WALK, P_ABRT, WALK, P_PID, P_STOP,
                           P_START]), "sigterm", "prefork"),
    ([], [P_ABRT]), "prefork: a crash followed by the parent's own SIGTERM "
    "line: the prefork child's exit in its signal handler")
is_(crash_lines("\n".join([P_START, P_ABRT, P_START, P_STOP]), "sigterm",
                "prefork"),
    ([P_ABRT], []), "prefork: a crash followed by a new start is a crash")
is_(crash_lines("\n".join([P_START, P_ABRT]), "sigterm", "prefork"),
    ([P_ABRT], []), "prefork: a crash with no stop after it is a crash")
is_(crash_lines("\n".join([P_START, P_ABRT, P_STOP]), "sigkill", "prefork"),
    ([P_ABRT], []), "prefork: under other faults every crash is a crash")
is_(crash_lines("\n".join([P_START, P_ABRT, P_STOP]), "graceful",
                "prefork"),
    ([P_ABRT], []), "prefork: under graceful restarts every crash is a "
    "crash")
is_(crash_lines("\n".join([START, SEGV, STOP]), "sigkill", "event"),
    ([SEGV], []), "under other faults every crash is a crash")
is_(crash_lines("\n".join([START, WALK, STOP]), "sigterm", "event"),
    ([], []), "no crash, nothing reported")

done_testing()
