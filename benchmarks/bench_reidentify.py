"""Re-identify a whole Meta upload: every field hashed, reversed, linked to a register.

Target (issue 17): a 1 M-row Meta upload with all fields hashed (SHA-256 of e-mail,
phone, first and last name, date of birth, gender, city, state, postcode, country; the
MADID travels in clear as Meta takes it) is fully processed - every field reversed,
linked to a 1 M-row register - in <= 30 s on the 2-core machine.

Run at full size::

    MATCHSIM_BENCH_REID_ROWS=1_000_000 pytest benchmarks/bench_reidentify.py -s --benchmark-only

(default 100,000 rows, for a shared machine). The population (customers = rows, platform
users = rows) and the upload are built once, outside the timing; the timed call reads
the upload and register files, reverses every field (e-mails: 1 M guesses in likelihood
order, ``MATCHSIM_BENCH_REID_EMAIL``), links, and runs the what-ifs.

Peer, in the same run and on the same low-entropy fields (names, date of birth, gender,
postcode, city, state, country): the naive attacker - a Python dict of
``hashlib.sha256(candidate)`` for every candidate of the same keyspaces, ``Series.map``
per column, and a pandas ``merge`` with the register on the reversed fields. Both get
the keyspaces built (outside the timing) and read the same files; the ratio printed is
peer / matchsim on that shared workload.

Issue 15 (the attack stages of ``matchsim run experiments/nl-health-insurer.toml``), each
beside the path it replaced, same answers asserted:

* ``test_link_*``: the linkage of the reversed upload to the register on every
  low-entropy field, one numba hash join per field pattern (``_link_hashed``) against
  the factorised mixed-radix join it replaced (``_link_factorised``, still the fallback);
* ``test_register_*``: the experiment's register drawn as dictionary codes
  (``_draw_encoded``) against drawing it as plain text (``draw_register``), each then
  normalised into a :class:`Register`;
* ``test_scan_words_*``: a word keyspace (the e-mail guesses) hashed and looked up
  among 1 M digests: in place from the Arrow buffers with the numba bucket walk
  (``engine._scan_words``) against gathering each length group into rows and walking
  the buckets in NumPy (the code it replaced, kept here and as ``_lookup_numpy``);
* ``test_gather_postcodes_*``: the register draw's postcodes (plain text, 11 M rows at
  full size) gathered into one dictionary array by packing each (at most 7 bytes) into
  an int64 key grouped by ``kernels.groups`` (``_short_codes``) against Arrow's
  ``dictionary_encode`` of the strings (the path it replaced, still the fallback for
  longer values); same dictionary and codes asserted. Full size: the
  ``MATCHSIM_BENCH_REID_POP`` command below with ``-k gather_postcodes``;
* ``test_distinct_digests_*``: an upload column's distinct digests (1 M rows, a city
  column's few thousand values) grouped by hash (``targets._grouped_rows``, what
  ``unique_rows`` now takes for columns with repeats) against the sort it replaced;
  same digests and row indices asserted;
* ``test_attack_stages``: the run's attack stages (phone, e-mail 5 M guesses,
  reidentify) on the SHA-256 and HMAC uploads of a population folder, timed per stage as
  ``manifest.json`` times them. Full size (the experiment's own population)::

    MATCHSIM_BENCH_REID_POP=/path/to/nl10m pytest benchmarks/bench_reidentify.py \
        -k attack_stages -s --benchmark-only -p no:cacheprovider

  (a folder ``matchsim generate`` wrote with the experiment's parameters: seed 7, NL,
  10 M platform users, 1 M customers, overlap 0.6; default: the small world above).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matchsim.attack.keyspace import WordKeyspace
from matchsim.attack.reidentify import draw_register, reidentify
from matchsim.generate import PopulationParams, population
from matchsim.normalise import get_profile
from matchsim.upload.write import hash_file

ROWS = int(os.environ.get("MATCHSIM_BENCH_REID_ROWS", "100000").replace("_", ""))
EMAIL_GUESSES = int(os.environ.get("MATCHSIM_BENCH_REID_EMAIL", "1000000").replace("_", ""))
LOW = ("first_name", "last_name", "dob", "gender", "postcode", "city", "state", "country")
_TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def pop_dir(world: tuple[Path, Path, pa.Table]) -> Path:
    """The world's population folder."""
    return world[0].parent / "pop"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pa.Table]:
    """(upload.parquet, register.parquet, register table) for ROWS customers."""
    root = tmp_path_factory.mktemp("reid")
    params = PopulationParams(
        platform_users=ROWS, customers=ROWS, country="NL", overlap=0.6, seed=17
    )
    pop = population(params, root / "pop")
    upload = root / "upload.parquet"
    hash_file(pop.customers, profile="meta", scheme="sha256", region="NL", out=upload)
    table, _ = draw_register(pop.out, coverage=1.0, seed=17)
    table = table.slice(0, ROWS)  # a random sample: the draw is in a seeded random order
    register = root / "register.parquet"
    pq.write_table(table, register)
    return upload, register, table


def test_reidentify_full(benchmark, world: tuple[Path, Path, pa.Table]) -> None:  # type: ignore[no-untyped-def]
    upload, register, _ = world

    def run() -> dict[str, object]:
        return reidentify(
            upload, "meta", "NL", register=register, email_guesses=EMAIL_GUESSES
        ).summary()

    summary = benchmark.pedantic(run, rounds=1, iterations=1)
    seconds = benchmark.stats.stats.max
    link = summary["link"]  # type: ignore[index]
    fields = summary["fields"]  # type: ignore[index]
    print(
        f"\nreidentify {ROWS:,} rows x {ROWS:,} register: {seconds:.1f} s "
        f"(target <= 30 s at 1 M); phases {summary['seconds']}"
    )
    for f, r in fields.items():  # type: ignore[attr-defined]
        print(f"  {f:<11} {100 * r['share']:5.1f} % in {r['seconds']:.2f} s")
    print(
        f"  re-identified {link['reidentified']:,}, ambiguous {link['ambiguous']:,}, "
        f"not found {link['not_found']:,}"
    )
    assert link["reidentified"] > 0.3 * ROWS


@pytest.fixture(scope="module")
def candidates() -> dict[str, list[str]]:
    """The low-entropy keyspaces, built once for both contestants (outside the timing:
    matchsim keeps them per process, the peer gets the same lists)."""
    from matchsim.attack.reidentify import _keyspace

    profile = get_profile("meta")
    out = {}
    for f in LOW:
        space = _keyspace(f, profile, "NL", None, EMAIL_GUESSES)
        assert isinstance(space, WordKeyspace)
        out[f] = pa.concat_arrays(list(space.batches())).to_pylist()
    return out


def test_low_entropy_matchsim(benchmark, world: tuple[Path, Path, pa.Table], candidates) -> None:  # type: ignore[no-untyped-def]
    upload, register, _ = world

    def run() -> int:
        result = reidentify(upload, "meta", "NL", register=register, fields=list(LOW),
                            what_ifs=False)  # fmt: skip
        return int(result.summary()["link"]["reidentified"])

    found = benchmark.pedantic(run, rounds=1, iterations=1)
    _TIMES["matchsim"] = benchmark.stats.stats.max
    _TIMES["matchsim_found"] = found


def _naive(upload: Path, table: pa.Table, candidates: dict[str, list[str]]) -> int:
    """The naive attacker: hashlib dictionaries per field, pandas map and merge."""
    profile = get_profile("meta")
    frame = pq.read_table(upload).to_pandas()
    plain = pd.DataFrame(index=frame.index)
    for f in LOW:
        words = candidates[f]
        lookup = {hashlib.sha256(w.encode()).hexdigest(): w for w in words}
        plain[f] = frame[profile.fields[f].column].map(lookup)
    reg = pd.DataFrame(
        {
            f: profile.normalise(
                f, table.column("region" if f == "state" else f), "NL"
            ).values.to_pandas()
            for f in LOW
        }
    )
    reg["id"] = table.column("id").to_pandas()
    complete = plain.dropna()
    counts = reg.groupby(list(LOW), dropna=True).size().rename("k").reset_index()
    merged = complete.merge(counts, on=list(LOW), how="left")
    return int((merged["k"] == 1).sum())


def test_low_entropy_naive_peer(benchmark, world: tuple[Path, Path, pa.Table], candidates) -> None:  # type: ignore[no-untyped-def]
    upload, _, table = world
    t0 = time.perf_counter()
    found = benchmark.pedantic(_naive, args=(upload, table, candidates), rounds=1, iterations=1)
    peer = time.perf_counter() - t0
    if "matchsim" in _TIMES:
        print(
            f"\nlow-entropy fields, {ROWS:,} rows: matchsim {_TIMES['matchsim']:.1f} s "
            f"({_TIMES['matchsim_found']:,} re-identified), naive hashlib + pandas "
            f"{peer:.1f} s ({found:,} complete rows with one match): "
            f"{peer / _TIMES['matchsim']:.1f}x"
        )
    assert found > 0
    assert np.isfinite(peer)


# --------------------------------------------------------------------------- issue 15


@pytest.fixture(scope="module")
def reversed_world(world: tuple[Path, Path, pa.Table]) -> tuple[Any, Any, dict[str, np.ndarray]]:
    """The upload reversed on the low-entropy fields, the register, and the upload's
    codes in the register (outside the timing: both joins start from them)."""
    from matchsim.attack.reidentify import _upload_codes, register_from_table, reverse_upload

    upload, _, table = world
    rev = reverse_upload(pq.read_table(upload), "meta", "NL", fields=list(LOW))
    reg = register_from_table(table, "meta", "NL")
    codes = {f: _upload_codes(rev, reg, f) for f in LOW if f in reg.codes}
    return rev, reg, codes


def _link_with(join: Any, rev: Any, reg: Any, codes: dict[str, np.ndarray]) -> np.ndarray:
    """k per row over the complete rows, by ``join`` (every pattern of fields)."""
    cols = list(codes)
    have = np.stack([codes[f] >= 0 for f in cols], axis=1)
    out = np.full(rev.n_rows, -1, dtype=np.int64)
    for n_have in (len(cols), len(cols) - 1):
        for drop in range(len(cols)) if n_have < len(cols) else [None]:
            use = [f for j, f in enumerate(cols) if j != drop]
            rows = np.flatnonzero(have[:, [cols.index(f) for f in use]].all(axis=1))
            k, _ = join(rows, use, codes, reg)
            out[rows] = k
    return out


def test_link_hashed(benchmark, reversed_world) -> None:  # type: ignore[no-untyped-def]
    from matchsim.attack.reidentify import _link_hashed

    def run() -> np.ndarray:
        def join(*a: Any) -> Any:
            found = _link_hashed(*a)
            assert found is not None
            return found

        return _link_with(join, *reversed_world)

    _join_results["hashed"] = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    _TIMES["link_hashed"] = benchmark.stats.stats.min


def test_link_factorised(benchmark, reversed_world) -> None:  # type: ignore[no-untyped-def]
    from matchsim.attack.reidentify import _link_factorised

    got = benchmark.pedantic(
        lambda: _link_with(_link_factorised, *reversed_world), rounds=3, iterations=1
    )
    peer = benchmark.stats.stats.min
    if "hashed" in _join_results:
        assert np.array_equal(got, _join_results["hashed"])
        ratio = peer / _TIMES["link_hashed"]
        benchmark.extra_info["factorised_over_hashed"] = round(ratio, 2)
        print(
            f"\nlink {ROWS:,} rows x {ROWS:,} register, {len(LOW)} fields and each 7: "
            f"hashed {_TIMES['link_hashed']:.3f} s, factorised {peer:.3f} s: {ratio:.1f}x"
        )


_join_results: dict[str, np.ndarray] = {}


def _register_encoded(pop: Path) -> Any:
    from matchsim.attack.reidentify import _draw_encoded, register_from_table

    table, _ = _draw_encoded(pop, 0.95, 7)
    return register_from_table(table, "meta", "NL")


def _register_plain(pop: Path) -> Any:
    from matchsim.attack.reidentify import register_from_table

    table, _ = draw_register(pop, 0.95, 7)
    return register_from_table(table, "meta", "NL")


def test_register_encoded(benchmark, pop_dir: Path) -> None:  # type: ignore[no-untyped-def]
    reg = benchmark.pedantic(_register_encoded, args=(pop_dir,), rounds=3, iterations=1)
    _TIMES["register_encoded"] = benchmark.stats.stats.min
    _join_results["register"] = reg  # type: ignore[assignment]


def test_register_plain(benchmark, pop_dir: Path) -> None:  # type: ignore[no-untyped-def]
    reg = benchmark.pedantic(_register_plain, args=(pop_dir,), rounds=3, iterations=1)
    peer = benchmark.stats.stats.min
    enc: Any = _join_results.get("register")
    if enc is not None:
        assert enc.ids.equals(reg.ids)
        for f in reg.codes:  # the same value in every row (codes number them differently)
            a = enc.dictionary[f].take(pa.array(np.maximum(enc.codes[f], 0)))
            b = reg.dictionary[f].take(pa.array(np.maximum(reg.codes[f], 0)))
            assert a.equals(b) and np.array_equal(enc.codes[f] < 0, reg.codes[f] < 0)
        ratio = peer / _TIMES["register_encoded"]
        benchmark.extra_info["plain_over_encoded"] = round(ratio, 2)
        print(
            f"\nregister draw + normalise ({reg.rows:,} rows): encoded "
            f"{_TIMES['register_encoded']:.2f} s, plain text {peer:.2f} s: {ratio:.1f}x"
        )


def test_attack_stages(benchmark, pop_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The run's attack stages on one population, timed per stage (one round: the first
    reidentify draws the register, the e-mail guesses are generated once, as in a run)."""
    from matchsim.experiment.attacks import HashedValues, attack
    from matchsim.experiment.config import AttackSpec, SchemeSpec
    from matchsim.schemes import SCHEMES, get_scheme
    from matchsim.secrets import Secret

    pop = Path(os.environ.get("MATCHSIM_BENCH_REID_POP", str(pop_dir)))
    profile = get_profile("meta")
    uploads = {}
    for name in ("sha256", "hmac-sha256"):
        cls = SCHEMES[name]
        secret = Secret(os.urandom(32), "bench") if getattr(cls, "needs_secret", False) else None
        scheme = get_scheme(name, secret=secret, **cls.upload_params({}, profile.encoding))
        uploads[name] = (scheme, secret, tmp_path / f"{name}.csv")
        hash_file(pop / "customers.parquet", profile=profile, scheme=scheme, region="NL",
                  out=uploads[name][2])  # fmt: skip
    specs = [AttackSpec("phone"), AttackSpec("email", guesses=5_000_000),
             AttackSpec("reidentify", coverage=0.95, guesses=1_000_000)]  # fmt: skip
    stages: dict[str, float] = {}

    def run() -> None:
        hashed = HashedValues(pop / "customers.parquet", "NL")
        for name, (scheme, secret, upload) in uploads.items():
            recovered: dict[str, Any] = {}
            for spec in specs:
                t0 = time.perf_counter()
                result = attack(spec, SchemeSpec(name), scheme, secret, upload, profile, "NL",
                                None, hashed, recovered)  # fmt: skip
                stages[f"attack {spec.kind} {name}"] = round(time.perf_counter() - t0, 3)
                assert result["feasible"]

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["stages"] = stages
    print(f"\nattack stages on {pop}:")
    for stage, seconds in stages.items():
        print(f"  {stage:<32} {seconds:7.2f} s")


@pytest.fixture(scope="module")
def email_scan() -> tuple[list[pa.Array], Any, Any]:
    """The first ``EMAIL_GUESSES`` e-mail guesses, 1 M target digests (a tenth of them
    among the guesses), and the SHA-256 plan."""
    from matchsim.attack.engine import Knowledge, _Plan
    from matchsim.attack.keyspace import email_keyspace
    from matchsim.attack.targets import parse_digests

    batches = list(email_keyspace("NL", max_guesses=EMAIL_GUESSES).batches())
    words = pa.concat_arrays(batches).to_pylist()
    rng = np.random.default_rng(5)
    hidden = [words[i] for i in rng.integers(0, len(words), 100_000)]
    hidden += [f"nobody{i}@example.nl" for i in range(900_000)]
    digests = pa.array([hashlib.sha256(w.encode()).hexdigest() for w in hidden])
    return batches, parse_digests(digests), _Plan.make(Knowledge(algorithm="sha256"))


def _scan_grouped(batch: pa.Array, plan: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    """The word scan before issue 15: rows gathered per byte length, NumPy lookup."""
    arr = pa.concat_arrays([batch.cast(pa.binary())])
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[: len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    order = np.argsort(lengths, kind="stable")
    bounds = np.flatnonzero(np.diff(lengths[order])) + 1
    out_idx, out_where = [], []
    for group in np.split(order, bounds):
        width = int(lengths[group[0]])
        rows = data[offsets[group][:, None] + np.arange(width)[None, :]]
        where = targets._lookup_numpy(plan.digest_rows(rows))
        out_idx.append(group[where >= 0])
        out_where.append(where[where >= 0])
    return np.concatenate(out_idx), np.concatenate(out_where)


def _scan_all(scan: Any, batches: list[pa.Array], plan: Any, targets: Any) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    at = 0
    for batch in batches:
        idx, where = scan(batch, plan, targets)
        found.update(zip((idx + at).tolist(), where.tolist(), strict=True))
        at += len(batch)
    return found


def test_scan_words_in_place(benchmark, email_scan) -> None:  # type: ignore[no-untyped-def]
    from matchsim.attack.engine import _scan_words

    batches, targets, plan = email_scan
    got = benchmark.pedantic(_scan_all, args=(_scan_words, batches, plan, targets),
                             rounds=3, iterations=1, warmup_rounds=1)  # fmt: skip
    _TIMES["scan_in_place"] = benchmark.stats.stats.min
    _join_results["scan"] = got  # type: ignore[assignment]


def test_scan_words_grouped(benchmark, email_scan) -> None:  # type: ignore[no-untyped-def]
    batches, targets, plan = email_scan
    got = benchmark.pedantic(_scan_all, args=(_scan_grouped, batches, plan, targets),
                             rounds=3, iterations=1)  # fmt: skip
    peer = benchmark.stats.stats.min
    mine: Any = _join_results.get("scan")
    if mine is not None:
        assert got == mine and len(got) >= 90_000
        ratio = peer / _TIMES["scan_in_place"]
        benchmark.extra_info["grouped_over_in_place"] = round(ratio, 2)
        n = sum(len(b) for b in batches)
        print(
            f"\nscan {n:,} e-mail guesses against 1,000,000 digests: in place "
            f"{_TIMES['scan_in_place']:.2f} s, grouped + NumPy lookup {peer:.2f} s: {ratio:.1f}x"
        )


@pytest.fixture(scope="module")
def postcode_parts(pop_dir: Path) -> tuple[list[pa.ChunkedArray], np.ndarray]:
    """The register draw's postcode columns (platform, customers: plain text) and a
    seeded 95 % of their rows in random order, as ``_draw_encoded`` gathers them."""
    from matchsim.attack.reidentify import _read_fields

    pop = Path(os.environ.get("MATCHSIM_BENCH_REID_POP", str(pop_dir)))
    parts = [
        _read_fields(pop / f"{name}.parquet", key, ["postcode"]).column("postcode")
        for name, key in (("platform", "uid"), ("customers", "cid"))
    ]
    n = sum(len(p) for p in parts)
    rows = np.random.default_rng(7).permutation(n)[: int(0.95 * n)]
    return parts, rows


def test_gather_postcodes_packed(benchmark, postcode_parts) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: postcodes (at most 7 bytes) grouped as packed int64 keys."""
    from matchsim.attack.reidentify import _gathered

    got = benchmark.pedantic(_gathered, args=postcode_parts, rounds=3, iterations=1)
    _TIMES["gather_packed"] = benchmark.stats.stats.min
    _join_results["gather"] = got  # type: ignore[assignment]


def test_gather_postcodes_arrow(benchmark, postcode_parts, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The path it replaced: Arrow's dictionary_encode of the strings, then unifying."""
    import matchsim.attack.reidentify as reid

    monkeypatch.setattr(reid, "_short_codes", lambda parts: None)
    got = benchmark.pedantic(reid._gathered, args=postcode_parts, rounds=3, iterations=1)
    peer = benchmark.stats.stats.min
    packed: Any = _join_results.get("gather")
    if packed is not None:
        assert packed.dictionary.equals(got.dictionary) and packed.indices.equals(got.indices)
        ratio = peer / _TIMES["gather_packed"]
        benchmark.extra_info["arrow_over_packed"] = round(ratio, 2)
        print(
            f"\nregister postcodes gathered ({len(postcode_parts[1]):,} rows): packed "
            f"{_TIMES['gather_packed']:.3f} s, Arrow dictionary_encode {peer:.3f} s: {ratio:.1f}x"
        )


@pytest.fixture(scope="module")
def city_digests() -> np.ndarray:
    """1 M rows of SHA-256 digests of 2,500 distinct values (an upload's city column)."""
    rng = np.random.default_rng(11)
    base = np.frombuffer(
        b"".join(hashlib.sha256(f"city{i}".encode()).digest() for i in range(2500)), np.uint8
    ).reshape(2500, 32)
    return base[rng.integers(0, 2500, ROWS * 10)]


def test_distinct_digests_grouped(benchmark, city_digests) -> None:  # type: ignore[no-untyped-def]
    from matchsim.attack.targets import _grouped_rows

    got = benchmark.pedantic(_grouped_rows, args=(city_digests,), rounds=3, iterations=1,
                             warmup_rounds=1)  # fmt: skip
    assert got is not None
    _TIMES["distinct_grouped"] = benchmark.stats.stats.min
    _join_results["distinct"] = got  # type: ignore[assignment]


def test_distinct_digests_sorted(benchmark, city_digests, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The path it replaced: every row sorted on its first 8 bytes."""
    import matchsim.attack.targets as targets

    monkeypatch.setattr(targets, "_grouped_rows", lambda raw: None)
    got = benchmark.pedantic(targets.unique_rows, args=(city_digests,), rounds=3, iterations=1)
    peer = benchmark.stats.stats.min
    mine: Any = _join_results.get("distinct")
    if mine is not None:
        assert np.array_equal(mine[0], got[0]) and np.array_equal(mine[1], got[1])
        ratio = peer / _TIMES["distinct_grouped"]
        benchmark.extra_info["sorted_over_grouped"] = round(ratio, 2)
        print(
            f"\ndistinct digests of {len(city_digests):,} rows (2,500 values): grouped "
            f"{_TIMES['distinct_grouped']:.3f} s, sorted {peer:.3f} s: {ratio:.1f}x"
        )
