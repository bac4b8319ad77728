"""What this machine charges for memory a process touches for the first time: the
system time of filling a fresh 1 GiB NumPy array (with NumPy's transparent-hugepage
advice, its default, and without it), and of writing 660 MB to a file (the page cache's
new pages). On a VM with free page reporting (``dmesg``: "Free page reporting enabled")
memory freed a few seconds ago has been handed back to the host and faults in again.

    python benchmarks/first_touch.py [ROUNDS]

Each round runs each probe in a fresh process after a pause (so the memory the last one
freed has been reported), alternating; prints wall, user and system seconds per probe.

    python benchmarks/first_touch.py ROUNDS --parquet POP/platform.parquet

adds reading a population's register columns (uid, names, date of birth, gender,
postcode, city, region, country: what a run's re-identification draws its register
from) with Arrow's default memory pool (mimalloc, which advises its 1 GiB arena
``MADV_HUGEPAGE``: ``strace -e trace=madvise``), with mimalloc told not to commit its
arena eagerly (``MIMALLOC_ARENA_EAGER_COMMIT=0``: no such advice), and with the system
allocator (``ARROW_DEFAULT_MEMORY_POOL=system``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

PROBE = """
import os, resource, sys, time
import numpy as np
kind = sys.argv[1]
r0 = resource.getrusage(resource.RUSAGE_SELF); t = time.perf_counter()
if kind == "parquet":
    import pyarrow.parquet as pq

    columns = ["uid", "first_name", "last_name", "dob", "gender", "postcode", "city", "region",
               "country"]
    pq.read_table(sys.argv[2], columns=columns)
elif kind == "write":
    block = np.frombuffer(os.urandom(1 << 20), np.uint8)
    with open(sys.argv[2], "wb") as fh:
        for _ in range(660):
            fh.write(block)
    os.unlink(sys.argv[2])
else:
    x = np.ones(1 << 30, np.uint8)
    del x
r1 = resource.getrusage(resource.RUSAGE_SELF)
user, system = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
print(f"{time.perf_counter() - t:.2f} {user:.2f} {system:.2f}")
"""

PROBES = {
    "1 GiB array, hugepage advice (NumPy default)": ("array", {"NUMPY_MADVISE_HUGEPAGE": "1"}),
    "1 GiB array, no hugepage advice": ("array", {"NUMPY_MADVISE_HUGEPAGE": "0"}),
    "660 MB written to a file": ("write", {}),
}


PARQUET_PROBES = {
    "register columns read, Arrow's default pool": {},
    "register columns read, MIMALLOC_ARENA_EAGER_COMMIT=0": {"MIMALLOC_ARENA_EAGER_COMMIT": "0"},
    "register columns read, system allocator": {"ARROW_DEFAULT_MEMORY_POOL": "system"},
}


def main(rounds: int, parquet: str | None = None) -> None:
    scratch = os.path.join(tempfile.gettempdir(), f"first-touch-{os.getpid()}")
    probes = dict(PROBES)
    if parquet is not None:
        probes |= {name: ("parquet", env) for name, env in PARQUET_PROBES.items()}
    for r in range(rounds):
        for name, (kind, env) in probes.items():
            time.sleep(5)  # let the last probe's freed memory be reported to the host
            out = subprocess.run(
                [sys.executable, "-c", PROBE, kind, parquet if kind == "parquet" else scratch],
                env={**os.environ, **env}, capture_output=True, text=True, check=True,
            ).stdout.split()  # fmt: skip
            print(f"round {r + 1}: {name}: wall {out[0]} s, user {out[1]} s, sys {out[2]} s",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    args = sys.argv[1:]
    at = args.index("--parquet") if "--parquet" in args else -1
    path = args[at + 1] if at >= 0 else None
    if at >= 0:
        del args[at : at + 2]
    main(int(args[0]) if args else 2, path)
