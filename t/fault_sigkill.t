#!/usr/bin/python3
# Issue 13: SIGKILL of random children every 0.7 s for 8 s, on event and
# prefork, while clients fetch, walks run and the master's files change.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import fault_load  # noqa: E402

fault_load.run("sigkill")
