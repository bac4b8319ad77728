"""The "hash *" and "join *" stages of ``matchsim run``, each beside the path it replaced
(pytest-benchmark; not part of the test run).

Run (shared machine figures are labelled so in the report)::

    .venv/bin/pytest benchmarks/bench_run_joins.py --benchmark-only -p no:cacheprovider -s
    MATCHSIM_BENCH_POP=/path/to/nl10m .venv/bin/pytest benchmarks/bench_run_joins.py \
        --benchmark-only -p no:cacheprovider -s        # the nl-health-insurer population

Without ``MATCHSIM_BENCH_POP`` a seeded NL population of ``MATCHSIM_BENCH_N`` platform
users (default 200,000; customers a tenth) is generated. The stages run as ``matchsim run``
runs them (``experiment/schemes.py``): per scheme ``hash_file`` of the customer file, then
``join_files`` with ``index="normalised"`` into a fresh index folder, SHA-256 first (it
writes the normalised platform), HMAC and the salted scheme reading it back. The peers:

* ``join sha256``: the join writing the normalised layer from its own pass
  (``NormalisedTee``) against building the layer first and joining from it (before);
* ``join salted-sha256``: hashing only platform rows whose salt an upload digest carries
  (``join/salted.py``) against hashing every platform row (before).

The ``test_op_*`` pairs time each normalising op the first join replaced (postcode
separators, the MADID shape, the e-mail split) beside the RE2/Arrow op it replaced.

Each pair's ratio is printed and put in ``extra_info``; each pair's join reports are
asserted equal (match sets and per-key counts; evaluation included).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from matchsim.join.run import join_files
from matchsim.normalise import get_profile
from matchsim.schemes import SCHEMES, get_scheme, upload_params
from matchsim.secrets import Secret
from matchsim.upload.write import hash_file

N = int(os.environ.get("MATCHSIM_BENCH_N", "200000"))
SCHEME_NAMES = ("sha256", "hmac-sha256", "salted-sha256")
_TIMES: dict[str, float] = {}
_REPORTS: dict[str, dict[str, Any]] = {}
_VOLATILE = ("elapsed_seconds", "join_seconds", "peak_rss_bytes", "platform_index")


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("run-joins")
    given = os.environ.get("MATCHSIM_BENCH_POP")
    if given:
        pop = Path(given)
    else:
        from matchsim.generate import PopulationParams, population

        pop = folder / "pop"
        made = PopulationParams(platform_users=N, customers=N // 10, country="NL",
                                overlap=0.6, seed=7)  # fmt: skip
        population(made, pop)
    secret = Secret(os.urandom(32), "generated for this benchmark")
    profile = get_profile("meta")
    schemes = {}
    for name in SCHEME_NAMES:
        needs = bool(getattr(SCHEMES[name], "needs_secret", False))
        params = upload_params(name, {}, profile.encoding)
        schemes[name] = (get_scheme(name, secret=secret if needs else None, **params), params)
    return {"pop": pop, "folder": folder, "profile": profile, "schemes": schemes,
            "secret": secret}  # fmt: skip


def _index(ctx: dict[str, Any], name: str, fresh: bool) -> None:
    folder = ctx["folder"] / f"index-{name}"
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    os.environ["MATCHSIM_INDEX_DIR"] = str(folder)


def _hash(ctx: dict[str, Any], name: str) -> Path:
    scheme, _ = ctx["schemes"][name]
    out = ctx["folder"] / f"{name}.csv"
    hash_file(ctx["pop"] / "customers.parquet", profile=ctx["profile"], scheme=scheme,
              region="NL", out=out, force=True)  # fmt: skip
    return out


def _join(ctx: dict[str, Any], name: str, out: str) -> dict[str, Any]:
    scheme, params = ctx["schemes"][name]
    run = join_files(
        ctx["pop"], ctx["folder"] / f"{name}.csv", profile="meta", scheme=name,
        scheme_params=params, secret=scheme.secret, out=ctx["folder"] / out,
        truth=ctx["pop"] / "truth.parquet", force=True, index="normalised",
    )  # fmt: skip
    return {k: v for k, v in run.report.items() if k not in _VOLATILE}


def _ratio(benchmark: Any, mine: str, peer: str) -> None:
    _TIMES[mine] = benchmark.stats.stats.min
    if peer in _TIMES and mine in _TIMES:
        benchmark.extra_info[f"{peer}/{mine}"] = _TIMES[peer] / _TIMES[mine]
        print(f"\n{mine}: {_TIMES[mine]:.2f} s, {peer}: {_TIMES[peer]:.2f} s, "
              f"ratio {_TIMES[peer] / _TIMES[mine]:.2f}x")  # fmt: skip


@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_hash(benchmark: Any, ctx: dict[str, Any], name: str) -> None:
    benchmark.pedantic(_hash, args=(ctx, name), rounds=1, warmup_rounds=0)
    _TIMES[f"hash {name}"] = benchmark.stats.stats.min


def test_join_sha256_separate_pass(benchmark: Any, ctx: dict[str, Any]) -> None:
    """Before: the normalised layer built in a pass of its own, then the join reads it."""
    from matchsim.join.index import ensure_normalised
    from matchsim.join.platform import ParquetPlatform

    def before() -> dict[str, Any]:
        _index(ctx, "separate", fresh=True)
        ensure_normalised(ParquetPlatform(ctx["pop"] / "platform.parquet", "meta", "sha256"))
        return _join(ctx, "sha256", "separate")

    _REPORTS["separate"] = benchmark.pedantic(before, rounds=1)
    _ratio(benchmark, "join sha256 separate pass", "join sha256")


def test_join_sha256(benchmark: Any, ctx: dict[str, Any]) -> None:
    def now() -> dict[str, Any]:
        _index(ctx, "run", fresh=True)  # the run's first join: no layer yet
        return _join(ctx, "sha256", "sha256")

    _REPORTS["sha256"] = benchmark.pedantic(now, rounds=1)
    _ratio(benchmark, "join sha256", "join sha256 separate pass")
    if "separate" in _REPORTS:
        assert _REPORTS["separate"] == _REPORTS["sha256"]


def test_join_hmac(benchmark: Any, ctx: dict[str, Any]) -> None:
    _index(ctx, "run", fresh=False)  # reads the layer the SHA-256 join wrote
    got = benchmark.pedantic(_join, args=(ctx, "hmac-sha256", "hmac"), rounds=1)
    assert got["matched_rows"] > 0


def test_join_salted_every_row(benchmark: Any, ctx: dict[str, Any]) -> None:
    """Before: every platform row salted and hashed."""
    import matchsim.join.run as join_run

    _index(ctx, "run", fresh=False)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(join_run, "salt_filter", lambda *a: None)
        _REPORTS["salted every row"] = benchmark.pedantic(
            _join, args=(ctx, "salted-sha256", "salted-every"), rounds=1
        )
    _ratio(benchmark, "join salted every row", "join salted")


def test_join_salted(benchmark: Any, ctx: dict[str, Any]) -> None:
    _index(ctx, "run", fresh=False)
    _REPORTS["salted"] = benchmark.pedantic(_join, args=(ctx, "salted-sha256", "salted"), rounds=1)
    _ratio(benchmark, "join salted", "join salted every row")
    if "salted every row" in _REPORTS:
        assert _REPORTS["salted every row"] == _REPORTS["salted"]


# ----------------------------------------------------- the platform's normalisers, op by op
# Each op the first join's normalising pass replaced, beside the Arrow/RE2 op it replaced,
# on the population's first platform row group (1 M users at full size).

_OPS: dict[str, float] = {}


def _column(ctx: dict[str, Any], name: str) -> Any:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    values = pq.ParquetFile(ctx["pop"] / "platform.parquet").read_row_group(0, columns=[name])
    return pc.utf8_lower(values[name].combine_chunks().cast("string"))


def _peer(name: str, benchmark: Any, fn: Any, *args: Any) -> None:
    benchmark.pedantic(fn, args=args, rounds=3, warmup_rounds=1)
    _OPS[name] = benchmark.stats.stats.min
    mine, before = name.removesuffix(" (before)"), f"{name.removesuffix(' (before)')} (before)"
    if mine in _OPS and before in _OPS:
        ratio = _OPS[before] / _OPS[mine]
        benchmark.extra_info["before/now"] = ratio
        print(f"\n{mine}: {_OPS[mine]:.3f} s, before {_OPS[before]:.3f} s, {ratio:.1f}x")


@pytest.mark.parametrize("way", ["before", "now"])
def test_op_postcode_separators(benchmark: Any, ctx: dict[str, Any], way: str) -> None:
    import pyarrow.compute as pc

    from matchsim.kernels.textshape import drop_ascii
    from matchsim.normalise.fields import _RE2_SPACE

    values = _column(ctx, "postcode")
    if way == "before":
        _peer("postcode separators (before)", benchmark, pc.replace_substring_regex, values,
              r"[\s\-]", "")  # fmt: skip
    else:
        _peer("postcode separators", benchmark, drop_ascii, values, _RE2_SPACE + "-")


@pytest.mark.parametrize("way", ["before", "now"])
def test_op_madid_shape(benchmark: Any, ctx: dict[str, Any], way: str) -> None:
    import pyarrow.compute as pc

    from matchsim.kernels.textshape import lower_uuid
    from matchsim.normalise.fields import _UUID

    values = _column(ctx, "madid")
    if way == "before":
        _peer("madid shape (before)", benchmark, pc.match_substring_regex, values, _UUID)
    else:
        _peer("madid shape", benchmark, lower_uuid, values)


@pytest.mark.parametrize("way", ["before", "now"])
def test_op_email_rules(benchmark: Any, ctx: dict[str, Any], way: str) -> None:
    import pyarrow.compute as pc

    from matchsim.normalise import fields

    text = _column(ctx, "email")
    reasons = fields._no_reasons(text)
    if way == "before":
        ats = pc.count_substring(text, "@")
        _peer("email split (before)", benchmark, fields._email_parts, text, ats, reasons, (), ())
    else:
        _peer("email split", benchmark, fields._email_whole, text, reasons)


@pytest.mark.parametrize("way", ["before", "now"])
def test_op_email_checks(benchmark: Any, ctx: dict[str, Any], way: str) -> None:
    """Meta's e-mail checks: the @ count, two comparisons and RE2 (before) against one
    byte loop (kernels/textshape.email_checks)."""
    import pyarrow.compute as pc

    from matchsim.normalise import fields

    text = _column(ctx, "email")

    def before(text: Any) -> Any:
        reasons = fields._no_reasons(text)
        ats = pc.count_substring(text, "@")
        reasons = fields._reason_where(pc.equal(ats, 0), "no @", reasons)
        reasons = fields._reason_where(pc.greater(ats, 1), "more than one @", reasons)
        return fields._email_whole(text, reasons)

    if way == "before":
        _peer("email checks (before)", benchmark, before, text)
    else:
        assert fields._email_checked(text)[1].equals(before(text)[1])
        _peer("email checks", benchmark, fields._email_checked, text)


@pytest.mark.parametrize("way", ["before", "now"])
def test_op_phone_rows(
    benchmark: Any, ctx: dict[str, Any], way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The platform's phones (30 % missing, the rest distinct): dictionary-encoded first
    (before: nulls counted as a repeated value) against row by row."""
    import pyarrow.parquet as pq

    from matchsim.join.platform import normalised_values
    from matchsim.normalise import distinct

    raw = pq.ParquetFile(ctx["pop"] / "platform.parquet").read_row_group(0, columns=["phone"])
    phones = raw["phone"].combine_chunks()
    profile = ctx["profile"]
    if way == "before":
        monkeypatch.setattr(distinct, "repeats", lambda values: True)
    _peer("phone normalising" + (" (before)" if way == "before" else ""), benchmark,
          normalised_values, profile, "phone", phones, "NL")  # fmt: skip


@pytest.mark.parametrize("way", ["before", "now"])
def test_op_combination_gather(benchmark: Any, ctx: dict[str, Any], way: str) -> None:
    """The name+postcode+dob key of one chunk: four 32-byte parts gathered byte by byte
    into a zeroed array (before) against word by word into an uninitialised one."""
    import numpy as np

    from matchsim.join.keys import KeyDigests
    from matchsim.kernels.join import gather_bytes
    from matchsim.kernels.mix import mix_into_first

    rng = np.random.default_rng(7)
    n = 1_000_000 if os.environ.get("MATCHSIM_BENCH_POP") else N
    parts = [(rng.integers(0, 256, (m, 32), dtype=np.uint8), rng.integers(0, m, n))
             for m in (5_000, 20_000, 300_000, 30_000)]  # fmt: skip
    valid = rng.random(n) < 0.95
    ids = np.arange(n, dtype=np.int64)

    def before() -> KeyDigests:
        keep = np.flatnonzero(valid)
        words = np.zeros((len(keep), 17), dtype=np.uint64)
        raw, at = words.view(np.uint8), 8
        for d, index in parts:
            gather_bytes(d, index[keep], raw, at)
            at += 32
        mix_into_first(words)
        return KeyDigests(words, ids[keep], 128)

    if way == "before":
        _peer("combination gather (before)", benchmark, before)
    else:
        assert np.array_equal(KeyDigests.gather(parts, valid, ids).words, before().words)
        _peer("combination gather", benchmark, KeyDigests.gather, parts, valid, ids)


@pytest.mark.parametrize("way", ["before", "now"])
def test_op_layer_write(benchmark: Any, ctx: dict[str, Any], way: str, tmp_path: Path) -> None:
    """One chunk of the normalised layer written with Parquet's defaults (before: column
    statistics, a dictionary tried on every column) against the layer's writer."""
    import pyarrow.parquet as pq

    from matchsim.join.index import _normalised_writer
    from matchsim.join.platform import normalised_table

    path = ctx["pop"] / "platform.parquet"
    table = normalised_table(pq.ParquetFile(path).read_row_group(0), ctx["profile"], path)

    def write() -> None:
        if way == "before":
            writer = pq.ParquetWriter(tmp_path / "normalised.parquet", table.schema,
                                      compression="none")  # fmt: skip
        else:
            writer = _normalised_writer(tmp_path, table.schema)
        writer.write_table(table, row_group_size=table.num_rows)
        writer.close()

    _peer("layer write" + (" (before)" if way == "before" else ""), benchmark, write)
