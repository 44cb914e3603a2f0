#!/usr/bin/env python3
"""Runs a command and reports whether its peak resident memory stayed under
a bound (the tests of streamed input).

    max-rss.py LIMIT_MIB COMMAND [ARG...]

Prints "peak RSS under LIMIT_MIB MiB" or "peak RSS N KiB, over LIMIT_MIB
MiB" (the command's stdout goes to /dev/null, its stderr passes through);
exits with the command's status.
"""

import resource
import subprocess
import sys

limit = int(sys.argv[1])
result = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB
if peak < limit * 1024:
    print(f"peak RSS under {limit} MiB")
else:
    print(f"peak RSS {peak} KiB, over {limit} MiB")
sys.exit(result.returncode)
