"""Precomputed lookup tables: the library round trip, refusals, and ``matchsim attack-table``
/ ``matchsim attack --table`` against enumeration and ground truth."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from matchsim.attack import (
    Knowledge,
    MaskKeyspace,
    date_keyspace,
    parse_digests,
    phone_keyspace,
    reverse,
)
from matchsim.attack.keyspace import Mask
from matchsim.attack.table import build_table, describe_keyspace, load_table, reverse_with_table
from matchsim.errors import InputError
from matchsim.generate import Population


def _hex(values: list[str], algo: str = "sha256") -> pa.Array:
    return pa.array([hashlib.new(algo, v.encode()).hexdigest() for v in values])


@pytest.fixture(scope="module")
def nl_dobs(nl_population: Population) -> list[str]:
    """Dates of birth of the NL platform users as Meta hashes them (YYYYMMDD)."""
    dob = pq.read_table(nl_population.platform, columns=["dob"]).column("dob")
    return pc.strftime(pc.drop_null(dob.combine_chunks()), "%Y%m%d").to_pylist()


def _sub_keyspace() -> MaskKeyspace:
    """NL mobiles starting 31612: 10^6 candidates of the real plan."""
    (mask,) = [m for m in phone_keyspace("NL", lengths=(9,)).masks if b"1" in m.positions[3]]
    positions = (*mask.positions[:3], b"1", b"2", *mask.positions[5:])
    return MaskKeyspace("NL mobile 31612*", (Mask(positions),))


# --------------------------------------------------------------------------- library


def test_saved_table_recovers_exactly_what_enumeration_recovers(
    nl_phones: list[str], tmp_path: Path
) -> None:
    # The population's own numbers, plus numbers outside the keyspace (a 06-5 mobile, a
    # landline) that neither way may recover.
    outside = ["31651234567", "31201234567"]
    truth = [*nl_phones, *outside]
    targets = parse_digests(_hex(truth))
    space = _sub_keyspace()
    path = tmp_path / "nl612.parquet"
    size = build_table(space, Knowledge("sha256")).save(path)
    assert size == path.stat().st_size
    table = load_table(path)
    assert table.keyspace == space and table.algorithm == "sha256"
    by_table = reverse_with_table(targets, table)
    by_scan = reverse(targets, space, stop_when_done=False)
    assert by_table.plaintext.to_pylist() == by_scan.plaintext.to_pylist()
    assert by_table.recovered_distinct == len(nl_phones) > 50
    assert by_table.score(pa.array(truth)) == {
        "precision": 1.0,
        "recall": len(nl_phones) / len(truth),
    }
    assert by_table.engine == "table" and by_table.keyspace_size == 10**6


def test_keyed_table_needs_the_same_secret_and_never_stores_it(
    nl_phones: list[str], tmp_path: Path
) -> None:
    key = b"platform-key-0123456789abcdef"
    phones = nl_phones[:30]
    signed = parse_digests(
        pa.array([hmac.new(key, p.encode(), "sha256").hexdigest() for p in phones])
    )
    path = tmp_path / "keyed.parquet"
    build_table(_sub_keyspace(), Knowledge("sha256", hmac_key=key)).save(path)
    assert key not in path.read_bytes()
    table = load_table(path)
    assert table.secret == "hmac"
    got = reverse_with_table(signed, table, Knowledge("sha256", hmac_key=key))
    assert sorted(got.plaintext.to_pylist()) == sorted(phones)
    with pytest.raises(InputError) as exc:
        reverse_with_table(signed, table)
    assert exc.value.one_line() == (
        f"{path}: the table holds SHA-256 digests built with a secret (hmac); "
        "the attack must know the same one"
    )


def test_load_table_refuses_what_it_cannot_trust(tmp_path: Path) -> None:
    dates = date_keyspace(2000, 2001)
    good = tmp_path / "dates.parquet"
    table = build_table(dates, Knowledge("md5"))
    table.save(good)

    def refused(path: Path, keyspace: MaskKeyspace | None = None) -> str:
        with pytest.raises(InputError) as exc:
            load_table(path, keyspace)
        return exc.value.one_line()

    assert refused(tmp_path / "nope.parquet") == f"{tmp_path}/nope.parquet: lookup table not found"
    data = good.read_bytes()
    for name, blob in (("half", data[: len(data) // 2]), ("text", b"not parquet\n")):
        bad = tmp_path / f"{name}.parquet"
        bad.write_bytes(blob)
        assert refused(bad) == f"{bad}: not a readable Parquet file (corrupt or truncated?)"
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"prefix": pa.array([1], pa.uint64())}), other)
    assert refused(other) == f"{other}: not a matchsim lookup table (no table metadata)"
    # Same metadata, tampered rows: one row dropped; prefixes out of order.
    meta = pq.read_schema(good).metadata
    arrays = pq.read_table(good)
    short = tmp_path / "short.parquet"
    pq.write_table(arrays.slice(1).replace_schema_metadata(meta), short)
    assert (
        refused(short)
        == f"{short}: corrupt lookup table: 730 rows for a keyspace of 731 candidates"
    )
    shuffled = tmp_path / "shuffled.parquet"
    pq.write_table(arrays.take(np.arange(731)[::-1].copy()).replace_schema_metadata(meta), shuffled)
    assert refused(shuffled) == (
        f"{shuffled}: corrupt lookup table (prefixes unsorted or indices out of range)"
    )
    newer = tmp_path / "newer.parquet"
    bumped = json.loads(meta[b"matchsim"]) | {"version": 2}
    pq.write_table(
        arrays.replace_schema_metadata({b"matchsim": json.dumps(bumped).encode()}), newer
    )
    assert refused(newer) == (
        f"{newer}: lookup table version 2 is not supported (this matchsim reads version 1); "
        "rebuild it"
    )
    # Edited metadata of the wrong shapes: each refused in one line, none crashes.
    unreadable = "not a matchsim lookup table (unreadable table metadata)"
    keyspace_unreadable = "not a matchsim lookup table (its keyspace is unreadable)"
    original = json.loads(meta[b"matchsim"])
    edits: list[tuple[dict[str, object], str]] = [
        ({"algorithm": ["md5"]}, unreadable),
        ({"algorithm": {"md5": 1}}, unreadable),
        ({"algorithm": None}, unreadable),
        ({"secret": ["none"]}, unreadable),
        ({"secret": "pepper-middle"}, unreadable),
        ({"secret": 7}, unreadable),
        ({"keyspace": []}, unreadable),
        ({"keyspace": original["keyspace"] | {"masks": [[1, 2]]}}, keyspace_unreadable),
        ({"keyspace": original["keyspace"] | {"masks": [[None]]}}, keyspace_unreadable),
        ({"keyspace": original["keyspace"] | {"masks": "2000"}}, keyspace_unreadable),
        ({"keyspace": original["keyspace"] | {"masks": [{"a": "1"}]}}, keyspace_unreadable),
        ({"keyspace": original["keyspace"] | {"name": None}}, keyspace_unreadable),
        ({"keyspace": original["keyspace"] | {"name": 3}}, keyspace_unreadable),
        ({"keyspace": original["keyspace"] | {"size": "731"}}, keyspace_unreadable),
        ({"keyspace": original["keyspace"] | {"size": True}}, keyspace_unreadable),
        ({"keyspace": original["keyspace"] | {"size": 731.0}}, keyspace_unreadable),
    ]
    # Every prefix overwritten with 0 (still sorted): caught by hashing rows again.
    zeroed = tmp_path / "zeroed.parquet"
    zeros = pa.array(np.zeros(731, np.uint64))
    pq.write_table(arrays.set_column(0, "prefix", zeros).replace_schema_metadata(meta), zeroed)
    assert refused(zeroed) == (
        f"{zeroed}: corrupt lookup table (row 1: its prefix is not the digest of its candidate)"
    )
    # A column named twice (the names checked as a set would pass).
    for doubled in ("index", "prefix"):
        twice = tmp_path / f"twice-{doubled}.parquet"
        columns = [arrays["prefix"], arrays["index"], arrays[doubled]]
        pq.write_table(
            pa.Table.from_arrays(
                columns, names=["prefix", "index", doubled]
            ).replace_schema_metadata(meta),
            twice,
        )
        assert refused(twice) == (
            f"{twice}: corrupt lookup table (its columns are not one prefix and one index)"
        )
    # A name with a line break and a terminal escape is shown escaped, on one line.
    named = tmp_path / "named.parquet"
    odd = original | {"keyspace": original["keyspace"] | {"name": "x\n\x1b[31mRED\u202e"}}
    pq.write_table(arrays.replace_schema_metadata({b"matchsim": json.dumps(odd).encode()}), named)
    assert describe_keyspace(load_table(named).keyspace).startswith(
        "x\\x0a\\x1b[31mRED\\u202e, 731"
    )
    for i, (change, why) in enumerate(edits):
        edited = tmp_path / f"edited-{i}.parquet"
        pq.write_table(
            arrays.replace_schema_metadata({b"matchsim": json.dumps(original | change).encode()}),
            edited,
        )
        assert refused(edited) == f"{edited}: {why}", change
    # Built for another keyspace than the one asked for.
    assert refused(good, date_keyspace(2000, 2000)) == (
        f"{good}: built for dates 2000-2001 (%Y%m%d), 731 candidates (2000010[123456789] + "
        "2000011?d + 2000012?d + 91 more masks), not for dates 2000-2000 (%Y%m%d), 366 "
        "candidates (2000010[123456789] + 2000011?d + 2000012?d + 44 more masks)"
    )
    # ... and for another algorithm than the upload's.
    loaded = load_table(good, dates)
    with pytest.raises(InputError) as exc:
        reverse_with_table(parse_digests(_hex(["20000101"], "sha1")), loaded)
    assert exc.value.one_line() == f"{good}: the table holds MD5 digests, the upload SHA-1 digests"
    got = reverse_with_table(parse_digests(_hex(["20000101", "20011231"], "md5")), loaded)
    assert sorted(got.plaintext.to_pylist()) == ["20000101", "20011231"]


# --------------------------------------------------------------------------- CLI


def _digest_file(path: Path, values: list[str], algo: str) -> Path:
    path.write_text(
        "hash\n" + "".join(hashlib.new(algo, v.encode()).hexdigest() + "\n" for v in values)
    )
    return path


def test_cli_table_reverses_what_enumeration_does(
    run_cli, tmp_path: Path, nl_dobs: list[str]
) -> None:  # type: ignore[no-untyped-def]
    # Ground truth: the platform's dates of birth, hashed with SHA-1.
    upload = _digest_file(tmp_path / "dob.csv", nl_dobs[:500], "sha1")
    table = tmp_path / "dates.parquet"
    code, out, err = run_cli(
        "attack-table", "--kind", "date", "--algorithm", "sha1", "--out", table
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert re.fullmatch(
        r"hashed dates 1920-2010 \(%Y%m%d\) with SHA-1: 33,238 candidates in \d+\.\d\d s "
        r"\([\d,]+ per second, sorting included\)",
        lines[0],
    )
    assert lines[1].split() == ["1920010[123456789]", "9"]
    assert lines[-3] == "  ... and 4,269 more masks"
    assert lines[-2] == f"wrote {table}: {table.stat().st_size:,} bytes " + (
        f"({table.stat().st_size / 33238:.1f} bytes per candidate)"
    )
    assert lines[-1] == f"reverse an upload with: matchsim attack UPLOAD --table {table}"

    by_table, by_scan = tmp_path / "by_table.csv", tmp_path / "by_scan.csv"
    code, out, err = run_cli("attack", upload, "--table", table, "--out", by_table)
    assert (code, err) == (0, "")
    assert out.startswith(
        f"detected SHA-1 (hex) in {upload}; 500 rows, {len(set(nl_dobs[:500]))} distinct digests\n"
        f"lookup table {table}: dates 1920-2010 (%Y%m%d), SHA-1, 33,238 candidates; loaded in "
    )
    assert "recovered" in out and "cost" not in out
    code, _, err = run_cli("attack", upload, "--kind", "date", "--no-cost", "--out", by_scan)
    assert (code, err) == (0, "")
    with by_table.open() as a, by_scan.open() as b:
        rows_table, rows_scan = list(csv.reader(a)), list(csv.reader(b))
    assert rows_table == rows_scan
    # Every date of birth the generator drew in 1920-2010 is recovered, at its own row.
    want = [[str(i), d] for i, d in enumerate(nl_dobs[:500]) if "19200101" <= d <= "20101231"]
    assert len(want) > 400 and rows_table[1:] == want

    code, out, err = run_cli("attack", upload, "--table", table, "--kind", "date", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["engine"] == "table" and report["recovered"] == len({d for _, d in want})
    assert report["table"] == str(table) and len(report["masks"]) == 4277
    assert "cost" not in report


def test_cli_table_errors_are_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    upload = _digest_file(tmp_path / "up.csv", ["19800101", "19900101"], "sha256")
    table = tmp_path / "t.parquet"
    code, _, err = run_cli("attack-table", "--kind", "date", "--out", table)
    assert (code, err) == (0, "")

    def error(*args: str | Path) -> str:
        code, out, err = run_cli(*args)
        assert code == 1 and out == "" and "Traceback" not in err, (code, out, err)
        return err

    missing = tmp_path / "missing.parquet"
    assert (
        error("attack", upload, "--table", missing) == f"Error: {missing}: lookup table not found\n"
    )
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(table.read_bytes()[:-100])
    assert error("attack", upload, "--table", corrupt) == (
        f"Error: {corrupt}: not a readable Parquet file (corrupt or truncated?)\n"
    )
    md5 = _digest_file(tmp_path / "md5.csv", ["19800101"], "md5")
    assert error("attack", md5, "--table", table) == (
        f"Error: {table}: the table holds SHA-256 digests, the upload MD5 digests\n"
    )
    assert error("attack", upload, "--table", table, "--kind", "phone", "--lengths", "9") == (
        f"Error: {table}: built for dates 1920-2010 (%Y%m%d), 33,238 candidates "
        "(1920010[123456789] + 1920011?d + 1920012?d + 4,274 more masks), not for NL mobile "
        "phones (digits), 60,000,000 candidates (316[123458]?d?d?d?d?d?d?d)\n"
    )
    assert error("attack", upload, "--table", table, "--kind", "email") == (
        "Error: --table holds a mask keyspace (phone, date, postcode); --kind email is "
        "enumerated, not looked up\n"
    )
    key = tmp_path / "key"
    key.write_text("k3y")
    assert error("attack", upload, "--table", table, "--hmac-key-file", key) == (
        f"Error: {table}: the table holds plain SHA-256 digests; a known key or pepper needs "
        "enumeration\n"
    )
    assert error("attack-table", "--kind", "date", "--out", table) == (
        f"Error: --out {table} already exists (use --force to replace it)\n"
    )
    assert error("attack-table", "--kind", "email", "--out", tmp_path / "e.parquet") == (
        "Error: --kind 'email' cannot be tabulated; choose from phone, date, postcode\n"
    )
    assert error("attack-table", "--algorithm", "crc32", "--out", tmp_path / "c.parquet") == (
        "Error: unknown --algorithm 'crc32'; choose from md5, sha1, sha256, sha512\n"
    )
    assert not (tmp_path / "e.parquet").exists() and not (tmp_path / "c.parquet").exists()
    # --force replaces the table (here with MD5), and the MD5 upload is then reversed.
    code, _, err = run_cli(
        "attack-table", "--kind", "date", "--algorithm", "md5", "--out", table, "--force"
    )
    assert (code, err) == (0, "")
    code, out, err = run_cli("attack", md5, "--table", table, "--json")
    assert code == 0, err
    assert json.loads(out)["recovered"] == 1


def test_cli_shows_a_tables_own_text_escaped(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A table's keyspace name and masks come from its file: a line break, a terminal
    escape or a bidi override in them reach the terminal escaped, never raw."""
    table = tmp_path / "dates.parquet"
    build_table(date_keyspace(2000, 2000), Knowledge("md5")).save(table)
    meta = json.loads(pq.read_schema(table).metadata[b"matchsim"])
    meta["keyspace"]["name"] = "x\n\x1b[31mRED\u202e"
    arrays = pq.read_table(table)
    pq.write_table(arrays.replace_schema_metadata({b"matchsim": json.dumps(meta).encode()}), table)
    upload = _digest_file(tmp_path / "dob.csv", ["20000101"], "md5")
    code, out, err = run_cli("attack", upload, "--table", table, "--no-cost")
    assert (code, err) == (0, "")
    assert "\x1b" not in out and "\u202e" not in out
    assert f"lookup table {table}: x\\x0a\\x1b[31mRED\\u202e, MD5, 366 candidates" in out
