"""Evaluation scores the rows the upload really holds, or refuses; the console says what
the match rate divides by."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from matchsim.generate import Population
from matchsim.join.run import join_files
from matchsim.upload.write import hash_file


@pytest.fixture(scope="module")
def hashed(nl_population: Population, tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    out = tmp_path_factory.mktemp("eval") / "up.csv"
    hash_file(nl_population.customers, profile="meta", scheme="sha256", region="NL", out=out)
    names = pcsv.read_csv(out).column_names
    return pcsv.read_csv(
        out, convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    )


def _write(table: pa.Table, path: Path) -> Path:
    pcsv.write_csv(table, path)
    return path


def _cids(nl_population: Population) -> np.ndarray:
    import pyarrow.parquet as pq

    return pq.read_table(nl_population.customers, columns=["cid"])["cid"].to_numpy()


def test_ordered_upload_is_checked_then_scored(
    nl_population: Population, hashed: pa.Table, tmp_path: Path
) -> None:
    run = join_files(nl_population.out, _write(hashed, tmp_path / "u.csv"), out=tmp_path / "j")
    assert run.evaluation is not None and run.evaluation.precision == 1.0
    assert run.report["evaluation_rows"].startswith("row order (checked: ")
    assert "evaluation_refused" not in run.report


@pytest.mark.parametrize("kind", ["shuffle", "subset"])
def test_shuffled_or_subset_upload_is_refused_not_misscored(
    run_cli, nl_population: Population, hashed: pa.Table, tmp_path: Path, kind: str
) -> None:
    rng = np.random.default_rng(5)
    n = hashed.num_rows
    rows = rng.permutation(n) if kind == "shuffle" else np.sort(rng.choice(n, n // 2, False))
    upload = _write(hashed.take(pa.array(rows)), tmp_path / "u.csv")
    code, out, err = run_cli(
        "join", "--platform", nl_population.out, "--upload", upload, "--out", tmp_path / "j"
    )
    assert code == 0, err
    report = json.loads((tmp_path / "j" / "join.json").read_text())
    assert "evaluation" not in report
    want = "not the customer file's rows in order" if kind == "shuffle" else "not the same rows"
    assert want in report["evaluation_refused"]
    assert not re.search(r"precision \d", out) and "no precision or recall: " in out
    assert report["matched_rows"] > 0.5 * len(rows)  # the join itself still runs


@pytest.mark.parametrize("kind", ["shuffle", "subset"])
def test_customer_id_column_aligns_rows(
    nl_population: Population, hashed: pa.Table, tmp_path: Path, kind: str
) -> None:
    ordered = join_files(
        nl_population.out, _write(hashed, tmp_path / "o.csv"), out=tmp_path / "o"
    ).evaluation
    assert ordered is not None
    rng = np.random.default_rng(9)
    n = hashed.num_rows
    rows = rng.permutation(n) if kind == "shuffle" else np.sort(rng.choice(n, n // 2, False))
    with_ids = hashed.append_column("EXTERN_ID", pa.array(_cids(nl_population)))
    upload = _write(with_ids.take(pa.array(rows)), tmp_path / "u.csv")
    run = join_files(nl_population.out, upload, out=tmp_path / "j")
    ev = run.evaluation
    assert ev is not None and run.report["evaluation_rows"] == "the upload's customer-id column"
    if kind == "shuffle":  # the same rows in another order: the same figures
        assert ev.to_dict() == ordered.to_dict()
    else:
        assert ev.customers == len(rows) and ev.precision == 1.0 and ev.recall > 0.97
        assert ev.true_matches + ev.missed == ev.on_platform < ordered.on_platform


def test_unknown_customer_ids_are_refused(
    nl_population: Population, hashed: pa.Table, tmp_path: Path
) -> None:
    ids = pa.array(np.arange(hashed.num_rows, dtype=np.int64) + 10**9)
    upload = _write(hashed.append_column("cid", ids), tmp_path / "u.csv")
    run = join_files(nl_population.out, upload, out=tmp_path / "j")
    assert run.evaluation is None
    assert "unknown customer ids" in run.report["evaluation_refused"]


def test_console_says_the_rate_is_over_accepted_rows(
    run_cli, nl_population: Population, hashed: pa.Table, tmp_path: Path
) -> None:
    # 500 repeated rows: refused as duplicates, so accepted rows < rows.
    upload = _write(pa.concat_tables([hashed, hashed.slice(0, 500)]), tmp_path / "u.csv")
    code, out, err = run_cli(
        "join", "--platform", nl_population.out, "--upload", upload, "--out", tmp_path / "j"
    )
    assert code == 0, err
    r = json.loads((tmp_path / "j" / "join.json").read_text())
    assert r["rows"] == hashed.num_rows + 500 and r["accepted_rows"] <= hashed.num_rows
    rate = 100 * r["matched_rows"] / r["accepted_rows"]
    assert (
        f"matched {r['matched_rows']:,} of {r['rows']:,} rows "
        f"({rate:.1f} % of {r['accepted_rows']:,} accepted rows)"
    ) in out
