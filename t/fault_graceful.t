#!/usr/bin/python3
# Issue 13: A graceful restart every 0.5 s for 8 s, on event and
# prefork, while clients fetch, walks run and the master's files change.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import fault_load  # noqa: E402

fault_load.run("graceful")
