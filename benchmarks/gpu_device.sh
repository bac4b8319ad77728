#!/usr/bin/env bash
# One-shot GPU check, for a session whose task is lent a CUDA machine (the workplace's
# H200 image has numba, numba-cuda, numpy, pyarrow, pandas, typer, rich, matplotlib,
# jinja2, pytest, pytest-benchmark and hypothesis, and cannot download anything).
#
# Prepare here, once: wheels for what that image lacks (Python 3.12, x86-64):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
#     --platform manylinux2014_x86_64 -d .whl phonenumbers cryptography cffi gmpy2
# Then run this script there with carry [".whl"]; it needs about 3 minutes.
set -euo pipefail
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
fi
export PYTHONPATH="$PWD:/tmp/site" PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
nvidia-smi -L || true
python3 -c "from numba import cuda; cuda.detect()"
python3 -m pytest -q -p no:cacheprovider tests/test_attack_gpu.py
python3 -m pytest -q -p no:cacheprovider -s benchmarks/bench_gpu.py \
  --benchmark-json="$OUT/bench_gpu.json" 2>&1 | tee "$OUT/bench_gpu.log"
