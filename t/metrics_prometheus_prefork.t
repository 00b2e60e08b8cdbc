#!/usr/bin/python3
# t/metrics_prometheus.t under the prefork MPM: every child process is its own
# process, so what one child counts or starts must be seen by the others.
import os
import runpy

os.environ["ZDDC_MPM"] = "prefork"
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "metrics_prometheus.t"), run_name="__main__")
