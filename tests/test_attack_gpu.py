"""The GPU scan gives the CPU scan's answers.

On a CPU-only machine the kernels run in numba's CUDA simulator (a subprocess with
``NUMBA_ENABLE_CUDASIM=1``: the simulator must be chosen before numba.cuda is imported);
on a machine with a CUDA GPU the same checks run on the device at a larger size.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from matchsim.attack import Knowledge, parse_digests, reverse
from matchsim.errors import ConfigError
from matchsim.kernels.attack import gpu

ROOT = Path(__file__).resolve().parents[1]
ON_DEVICE = gpu.available() and not gpu.simulated()


def test_gpu_kernels_agree_with_cpu_in_the_cuda_simulator() -> None:
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "gpu_check.py"), "2", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ok", "7"]


@pytest.mark.skipif(not ON_DEVICE, reason="no CUDA GPU available to numba")
def test_gpu_kernels_agree_with_cpu_on_the_device() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from gpu_check import check_agreement

    assert check_agreement(free=6, n_planted=500, seed=1) == 7


@pytest.mark.skipif(ON_DEVICE, reason="a GPU is present")
def test_asking_for_a_missing_gpu_is_a_clear_error() -> None:
    from matchsim.attack.keyspace import Mask, MaskKeyspace

    space = MaskKeyspace("tiny", (Mask((b"3", b"0123456789")),))
    targets = parse_digests(pa.array([hashlib.sha256(b"31").hexdigest()]))
    with pytest.raises(ConfigError, match=r"no CUDA GPU is available"):
        reverse(targets, space, device="gpu")
    with pytest.raises(ConfigError, match=r"unknown device 'tpu'"):
        reverse(targets, space, device="tpu")


@pytest.mark.skipif(ON_DEVICE, reason="a GPU is present")
def test_cli_device_errors_are_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    upload = tmp_path / "upload.csv"
    upload.write_text(hashlib.sha256(b"31612345678").hexdigest() + "\n")
    code, _, err = run_cli("attack", upload, "--kind", "date", "--device", "gpu")
    assert code == 1
    assert err.startswith("Error: no CUDA GPU is available to numba")
    assert err.count("\n") == 1
    code, _, err = run_cli("attack", upload, "--device", "tpu")
    assert (code, err) == (1, "Error: unknown --device 'tpu'; choose cpu or gpu\n")


def test_candidates_too_long_for_the_gpu_kernels_are_a_config_error() -> None:
    from matchsim.attack.engine import _mask_layout, _Plan
    from matchsim.attack.keyspace import Mask

    space = Mask((b"3", b"0123456789"))
    short = _mask_layout(space, _Plan.make(Knowledge("sha256", pepper=b"p" * 200)))
    gpu.check_layout(short)  # 4 blocks: fits
    long = _mask_layout(space, _Plan.make(Knowledge("sha256", pepper=b"p" * 300)))
    with pytest.raises(ConfigError, match=r"candidates of 5 hash blocks .* exceed the GPU"):
        gpu.check_layout(long)
