"""GPU-vs-CPU agreement checks, run by tests/test_attack_gpu.py.

Imported on a machine with a CUDA GPU, or executed as a script under numba's CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``; it prints ``ok <n>`` after every check passed).
Each check hashes planted values, scans the same keyspace on the GPU and on the CPU and
requires identical recovered sets; the raw GPU hit list must contain every true hit.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import warnings

import numpy as np
import pyarrow as pa

from matchsim.attack import Knowledge, parse_digests, reverse
from matchsim.attack.engine import _Filter, _mask_layout, _Plan
from matchsim.attack.keyspace import Mask, MaskKeyspace
from matchsim.kernels.attack import gpu

DIGITS = b"0123456789"


def _keyspace(free: int) -> MaskKeyspace:
    """NL-mobile-shaped candidates with ``free`` trailing digits varying."""
    fixed = b"3161234567"[: 11 - free]
    mask = Mask((*(fixed[i : i + 1] for i in range(len(fixed))), *(DIGITS,) * free))
    return MaskKeyspace(f"{fixed.decode()}{'?d' * free}", (mask,))


def _digest(algo: str, value: bytes, knowledge: Knowledge) -> str:
    if knowledge.hmac_key is not None:
        return hmac.new(knowledge.hmac_key, value, "sha256").hexdigest()
    pepper = knowledge.pepper or b""
    data = pepper + value if knowledge.pepper_position == "prefix" else value + pepper
    return hashlib.new(algo, data).hexdigest()


def check_agreement(free: int, n_planted: int, seed: int) -> int:
    """Every algorithm and secret: GPU and CPU recover the same planted values."""
    space = _keyspace(free)
    mask = space.masks[0]
    rng = np.random.default_rng(seed)
    planted = np.unique(rng.integers(0, mask.size, n_planted))
    values = [bytes(r) for r in mask.decode(planted)]
    cases = [Knowledge(a) for a in ("md5", "sha1", "sha256", "sha512")]
    cases += [
        Knowledge("sha256", hmac_key=b"the advertiser's key"),
        Knowledge("sha256", pepper=b"p" * 70, pepper_position="prefix"),  # two blocks
        Knowledge("sha512", pepper=b"q" * 130),  # two 128-byte blocks
    ]
    checks = 0
    for knowledge in cases:
        algo = knowledge.algorithm
        digests = [_digest(algo, v, knowledge) for v in values]
        digests.append(_digest(algo, b"not-in-the-space", knowledge))
        targets = parse_digests(pa.array(digests))
        on_gpu = reverse(targets, space, knowledge, stop_when_done=False, device="gpu")
        on_cpu = reverse(targets, space, knowledge, stop_when_done=False)
        assert on_gpu.engine == "gpu", on_gpu.engine
        assert on_gpu.recovered_distinct == len(values), (knowledge.describe(), on_gpu.summary())
        assert on_gpu.plaintext.to_pylist() == on_cpu.plaintext.to_pylist()
        # Raw survivors of an unaligned range: a superset of the true hits in it.
        plan = _Plan.make(knowledge)
        filt = _Filter.make(targets, plan.algo)
        scanner = gpu.GpuScanner(plan.algo, plan.init, plan.outer, filt.bm1, filt.bm2, filt.bits)
        layout = _mask_layout(mask, plan, gpu.MIN_INNER)
        lo, hi = 37, mask.size - 29
        raw = set(scanner.scan(layout, lo, hi, cap=4).tolist())  # cap 4 forces a rerun
        want = {int(p) for p in planted if lo <= p < hi}
        assert want <= raw, (knowledge.describe(), sorted(want - raw))
        assert all(lo <= r < hi for r in raw)
        checks += 1
    return checks


if __name__ == "__main__":
    warnings.simplefilter("ignore", RuntimeWarning)  # numpy scalars wrap SHA-512's adds
    if not gpu.simulated():
        sys.exit("run with NUMBA_ENABLE_CUDASIM=1 (or import check_agreement on a GPU)")
    print("ok", check_agreement(free=int(sys.argv[1]), n_planted=6, seed=int(sys.argv[2])))
