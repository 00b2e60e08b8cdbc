#!/usr/bin/python3
# Cache mode under the prefork MPM: MISS -> REVALIDATED -> STALE -> back,
# listings, concurrent misses (one download), and upstream keep-alive
# (far fewer master connections than requests; one per child process).
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from mpm_flow import run_mpm_flow  # noqa: E402

run_mpm_flow("prefork")
