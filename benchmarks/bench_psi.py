"""ECDH-PSI: matchsim (X25519) vs OpenMined PSI (P-256), same sets, same run.

    pytest benchmarks/bench_psi.py -s                                  # 10^5 x 10^5
    MATCHSIM_BENCH_PSI_ITEMS=1_000_000 pytest benchmarks/bench_psi.py -s   # 10^6 (slow)

Both sides hold ``N`` e-mail-like identifiers, half of them shared. Every figure covers
the whole protocol, both parties, on one core: hashing to the curve, all scalar
multiplications, and the comparison. Bytes are what crosses the wire (for OpenMined:
the serialised setup, request and response protobufs). The table prints µs per element
(per item of either party) and the ratio; plain hashing's bytes are ``32 × N``.
"""

from __future__ import annotations

import os
import time

import pytest

from matchsim import psi

N = int(os.environ.get("MATCHSIM_BENCH_PSI_ITEMS", "100_000").replace("_", ""))
ROWS: dict[str, tuple[float, int, int]] = {}


def _sets() -> tuple[list[str], list[str]]:
    adv = [f"customer{i}@example.nl" for i in range(N)]
    plat = [f"customer{i}@example.nl" for i in range(N // 2, N // 2 + N)]
    return adv, plat


def _report() -> None:
    if "matchsim" not in ROWS:
        return
    ours = ROWS["matchsim"][0]
    print(f"\nPSI, {N:,} x {N:,} items, one core (same run):")
    print(f"  {'':<28}{'seconds':>9}{'µs/elem':>9}{'bytes':>14}{'matched':>9}  vs matchsim")
    for name, (sec, nbytes, matched) in ROWS.items():
        print(
            f"  {name:<28}{sec:>9.1f}{1e6 * sec / (2 * N):>9.1f}{nbytes:>14,}{matched:>9,}"
            f"  {sec / ours:.2f}x"
        )
    print(f"  {'plain SHA-256 upload':<28}{'':>9}{'':>9}{32 * N:>14,}")


def test_matchsim_psi(benchmark: pytest.FixtureRequest) -> None:
    adv, plat = _sets()
    psi.run(adv[:100], plat[:100])  # warm imports
    out: list[psi.PsiResult] = []
    started = time.perf_counter()
    benchmark.pedantic(  # type: ignore[attr-defined]
        lambda: out.append(psi.run(adv, plat, psi.PsiParams(receiver="advertiser"))),
        rounds=1,
        iterations=1,
    )
    r = out[0]
    assert r.matched == N // 2
    ROWS["matchsim"] = (time.perf_counter() - started, r.to_dict()["bytes_total"], r.matched)
    _report()


@pytest.mark.parametrize("structure", ["RAW", "GCS"])
def test_openmined_psi(benchmark: pytest.FixtureRequest, structure: str) -> None:
    om = pytest.importorskip(
        "private_set_intersection.python", reason="openmined-psi not installed (dev peer)"
    )
    adv, plat = _sets()
    ds = getattr(om.DataStructure, structure)
    out: list[tuple[int, int]] = []

    def run() -> None:
        client = om.client.CreateWithNewKey(True)
        server = om.server.CreateWithNewKey(True)
        setup = server.CreateSetupMessage(1e-9, len(adv), plat, ds)
        request = client.CreateRequest(adv)
        response = server.ProcessRequest(request)
        matched = len(client.GetIntersection(setup, response))
        nbytes = sum(len(m.SerializeToString()) for m in (setup, request, response))
        out.append((nbytes, matched))

    started = time.perf_counter()
    benchmark.pedantic(run, rounds=1, iterations=1)  # type: ignore[attr-defined]
    nbytes, matched = out[0]
    assert abs(matched - N // 2) <= max(2, N // 10**6)  # GCS may add false positives
    ROWS[f"openmined-psi P-256 {structure}"] = (time.perf_counter() - started, nbytes, matched)
    _report()
