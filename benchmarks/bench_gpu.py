"""Re-identification on a CUDA GPU: the whole NANP keyspace, and the NL job, beside the CPU.

Skips unless numba sees a real CUDA device (``numba.cuda.is_available()``, simulator
off). On such a machine (see benchmarks/gpu_device.sh for the one-shot script):

    pytest benchmarks/bench_gpu.py -p no:cacheprovider -s

Reports, in one run: GPU candidates/s per algorithm over 2^32 NANP candidates; the
time to exhaust the whole NANP keyspace (``1`` + 10 digits, 10^10 candidates) with 1,000
planted SHA-256 hashes, all recovered; the 1 M-hash NL mobile job; the fused CPU
kernel's rate on a slice of the same keyspace and the GPU/CPU ratio; and hashcat's
``-b -m 1400`` rate when hashcat is installed there.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pyarrow as pa
import pytest
from bench_attack import HASHCAT_MODES, hashcat_rate

from matchsim.attack import Knowledge, parse_digests, phone_keyspace, reverse
from matchsim.attack.engine import _Filter, _mask_layout, _Plan, scan_mask_range
from matchsim.attack.keyspace import Mask, MaskKeyspace
from matchsim.kernels.attack import gpu

pytestmark = pytest.mark.skipif(
    not (gpu.available() and not gpu.simulated()), reason="no CUDA GPU available to numba"
)

DIGITS = b"0123456789"
NANP = MaskKeyspace("NANP 1?d^10", (Mask((b"1", *(DIGITS,) * 10)),))
WIDTH = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}


def _planted(space: MaskKeyspace, n: int, seed: int = 1) -> list[str]:
    mask = space.masks[0]
    idx = np.unique(np.random.default_rng(seed).integers(0, mask.size, n))
    return [bytes(r).decode() for r in mask.decode(idx)]


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256", "sha512", "hmac-sha256"])
def test_gpu_raw_rate(benchmark, algo: str) -> None:  # type: ignore[no-untyped-def]
    name = "sha256" if algo == "hmac-sha256" else algo
    plan = _Plan.make(Knowledge(name, hmac_key=b"k" if algo == "hmac-sha256" else None))
    targets = parse_digests(pa.array(["0" * WIDTH[name]]))
    filt = _Filter.make(targets, plan.algo)
    scanner = gpu.GpuScanner(plan.algo, plan.init, plan.outer, filt.bm1, filt.bm2, filt.bits)
    mask = NANP.masks[0]
    layout = _mask_layout(mask, plan, gpu.MIN_INNER)
    n = 1 << 32
    scanner.scan(layout, 0, 1 << 20, cap=1 << 16)  # compile
    benchmark.pedantic(scanner.scan, args=(layout, 0, n, 1 << 16), rounds=3)
    rate = n / benchmark.stats.stats.min
    cpu_n = 1 << 23
    t0 = time.perf_counter()
    scan_mask_range(mask, 0, cpu_n, plan, targets)
    cpu_rate = cpu_n / (time.perf_counter() - t0)
    benchmark.extra_info.update(gpu_GHs=round(rate / 1e9, 3), cpu_MHs=round(cpu_rate / 1e6, 1))
    line = f"\n{algo}: GPU {rate / 1e9:.2f} GH/s; CPU (same run) {cpu_rate / 1e6:.1f} MH/s"
    line += f"; ratio {rate / cpu_rate:.0f}x"
    mode = HASHCAT_MODES.get(algo)
    peer = hashcat_rate(mode) if mode else None
    line += f"; hashcat -b -m {mode}: {peer / 1e9:.2f} GH/s" if peer else "; hashcat: n/a"
    print(line)


def test_gpu_whole_nanp(benchmark) -> None:  # type: ignore[no-untyped-def]
    numbers = _planted(NANP, 1000)
    targets = parse_digests(pa.array([hashlib.sha256(x.encode()).hexdigest() for x in numbers]))
    reverse(targets, MaskKeyspace("warm", (Mask((b"1", *(DIGITS,) * 6)),)), device="gpu")

    def job() -> float:
        t0 = time.perf_counter()
        result = reverse(targets, NANP, stop_when_done=False, device="gpu")
        assert result.recovered_distinct == len(numbers)
        return time.perf_counter() - t0

    seconds = benchmark.pedantic(job, rounds=1)
    benchmark.extra_info["nanp_seconds"] = round(seconds, 3)
    print(f"\nwhole NANP (10^10 SHA-256 candidates, 1,000 targets): {seconds:.2f} s on the GPU")


def test_gpu_nl_mobile_job(benchmark) -> None:  # type: ignore[no-untyped-def]
    space = phone_keyspace("NL", lengths=(9,))
    numbers = _planted(MaskKeyspace("nl", space.masks[:1]), 1_000_000)
    hashes = pa.array([hashlib.sha256(x.encode()).hexdigest() for x in numbers])

    def job() -> float:
        t0 = time.perf_counter()
        result = reverse(parse_digests(hashes), space, stop_when_done=False, device="gpu")
        assert result.recovered_distinct == len(numbers)
        return time.perf_counter() - t0

    seconds = benchmark.pedantic(job, rounds=1)
    benchmark.extra_info["nl_job_seconds"] = round(seconds, 3)
    print(f"\nNL job ({len(numbers):,} SHA-256 hashes) end to end on the GPU: {seconds:.2f} s")
