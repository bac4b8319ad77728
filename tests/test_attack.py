"""Re-identification: digest parsing, keyspaces, ground-truth reversal, cost, CLI."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import json
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
    email_keyspace,
    nl_postcode_keyspace,
    parse_digests,
    phone_keyspace,
    reverse,
)
from matchsim.attack.cost import CATALOGUE, measure_kdf, price_catalogue
from matchsim.attack.keyspace import Mask
from matchsim.attack.table import build_table, reverse_with_table
from matchsim.errors import ConfigError, InputError
from matchsim.generate import Population


def _hex(values: list[str], algo: str = "sha256") -> pa.Array:
    return pa.array([hashlib.new(algo, v.encode()).hexdigest() for v in values])


def _sub_keyspace() -> MaskKeyspace:
    """NL mobiles starting 31612: 10^6 candidates of the real plan (fast in tests)."""
    (mask,) = [m for m in phone_keyspace("NL", lengths=(9,)).masks if b"1" in m.positions[3]]
    positions = (*mask.positions[:3], b"1", b"2", *mask.positions[5:])
    return MaskKeyspace("NL mobile 31612*", (Mask(positions),))


# --------------------------------------------------------------------------- targets


def test_detects_algorithm_and_encoding() -> None:
    vals = ["31612345678", "31687654321"]
    for algo, n in (("md5", 16), ("sha1", 20), ("sha256", 32), ("sha512", 64)):
        t = parse_digests(_hex(vals, algo))
        assert (t.algorithm, t.encoding, t.n_distinct) == (algo, "hex", 2)
        assert t.digests.shape == (2, n)
    b64 = pa.array([base64.b64encode(hashlib.sha256(v.encode()).digest()).decode() for v in vals])
    t = parse_digests(b64)
    assert (t.algorithm, t.encoding) == ("sha256", "base64")
    assert bytes(t.digests[t.row_digest[0]]) == hashlib.sha256(vals[0].encode()).digest()


def test_rejects_rows_with_counts() -> None:
    good = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(40)]
    t = parse_digests(pa.array([*good, "zz" + good[0][2:], good[1][:-2], "", None]))
    assert t.rejected == {"empty": 2, "non-hex characters": 1, "wrong length": 1}
    assert t.n_distinct == 40 and t.n_rows == 44


def test_mixed_and_unknown_formats_are_errors() -> None:
    mixed = pa.concat_arrays([_hex(["a", "b", "c"], "md5"), _hex(["d", "e"], "sha256")])
    with pytest.raises(InputError, match=r"mixed hash formats \(3 MD5 hex, 2 SHA-256 hex\)"):
        parse_digests(mixed)
    with pytest.raises(InputError, match="no recognisable hash digests"):
        parse_digests(pa.array(["hello", "world"]))
    with pytest.raises(InputError, match="empty"):
        parse_digests(pa.array(["", None], pa.string()))


# --------------------------------------------------------------------------- keyspaces


def test_phone_keyspace_sizes_and_styles() -> None:
    nl = phone_keyspace("NL", lengths=(9,))
    assert nl.size == 6 * 10**7  # 06 + [1-58] + 7 digits
    assert [m.text() for m in nl.masks] == ["316[123458]?d?d?d?d?d?d?d"]
    assert phone_keyspace("NL", style="e164", lengths=(9,)).masks[0].text().startswith("+316")
    assert phone_keyspace("NL", style="national", lengths=(9,)).masks[0].text().startswith("06")
    us = phone_keyspace("US", "mobile")
    assert 10**9 < us.size < 10**10
    with pytest.raises(ConfigError, match="region NL has no personal_number numbers"):
        phone_keyspace("NL", "personal_number")


def test_small_keyspaces() -> None:
    assert date_keyspace(2000, 2000).size == 366
    assert date_keyspace(1999, 1999).size == 365
    assert nl_postcode_keyspace().size == 9000 * 400
    m = date_keyspace(2000, 2000).masks[0]
    assert m.decode(np.array([0])).tobytes() == b"20000101"


# --------------------------------------------------------------------------- ground truth


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256"])
def test_every_plain_phone_hash_is_recovered(nl_phones: list[str], algo: str) -> None:
    assert len(nl_phones) > 50
    targets = parse_digests(_hex(nl_phones, algo))
    result = reverse(targets, _sub_keyspace(), stop_when_done=False)
    assert result.recovered_distinct == len(nl_phones)
    assert result.candidates_tried == 10**6
    assert result.score(pa.array(nl_phones)) == {"precision": 1.0, "recall": 1.0}


def test_known_secrets_fall_unknown_ones_hold(nl_phones: list[str]) -> None:
    phones = nl_phones[:40]
    truth = pa.array(phones)
    key = b"advertiser-key-0123456789"
    signed = pa.array([hmac.new(key, p.encode(), "sha256").hexdigest() for p in phones])
    ks = _sub_keyspace()
    known = reverse(parse_digests(signed), ks, Knowledge("sha256", hmac_key=key))
    assert known.score(truth)["recall"] == 1.0
    unknown = reverse(parse_digests(signed), ks, stop_when_done=False)
    assert unknown.recovered_distinct == 0
    wrong = reverse(parse_digests(signed), ks, Knowledge("sha256", hmac_key=b"guess"))
    assert wrong.recovered_distinct == 0
    rng = np.random.default_rng(5)
    salted = pa.array([hashlib.sha256(rng.bytes(16) + p.encode()).hexdigest() for p in phones])
    assert reverse(parse_digests(salted), ks).recovered_distinct == 0
    pepper = b"s3cret-pepper"
    peppered = _hex([p + pepper.decode() for p in phones])
    got = reverse(parse_digests(peppered), ks, Knowledge("sha256", pepper=pepper))
    assert got.score(truth)["recall"] == 1.0


def test_sha512_uses_the_slow_path(nl_phones: list[str]) -> None:
    small = MaskKeyspace(
        "tiny",
        (
            Mask(
                (
                    b"3",
                    b"1",
                    b"6",
                    b"1",
                    b"2",
                    *_sub_keyspace().masks[0].positions[5:8],
                    b"0",
                    b"0",
                    b"0",
                )
            ),
        ),
    )
    want = [p for p in nl_phones if p.endswith("000")] + ["31612" + "123" + "000"]
    got = reverse(parse_digests(_hex(want, "sha512")), small, stop_when_done=False)
    assert got.recovered_distinct == len(set(want))


def test_email_guesswork_curve(nl_population: Population) -> None:
    emails = pq.read_table(nl_population.platform, columns=["email"]).column("email")
    emails = pc.unique(pc.drop_null(emails.combine_chunks()))
    targets = parse_digests(_hex(emails.to_pylist()[:3000]))
    result = reverse(targets, email_keyspace("NL", max_guesses=300_000))
    curve = result.guesswork(10)
    shares = [s for _, s in curve]
    assert shares == sorted(shares)  # more guesses never recover less
    # The name-frequency model reverses a real share of the addresses within 300 k
    # guesses, and the early guesses (the common names) are the productive ones.
    assert 0.05 < result.recall_at(300_000) < 0.9
    assert result.recall_at(30_000) > 0.3 * result.recall_at(300_000)
    assert result.score(pa.array(targets.rows, pa.int64()).cast(pa.string()))["recall"] == 0.0


def test_precomputed_table_matches_enumeration() -> None:
    dates = date_keyspace(1950, 2005)
    sample = ["19500101", "19800229", "20051231", "19991301"]
    targets = parse_digests(_hex(sample, "sha1"))
    table = build_table(dates, Knowledge("sha1"))
    by_table = reverse_with_table(targets, table)
    by_scan = reverse(targets, dates)
    assert by_table.recovered_distinct == by_scan.recovered_distinct == 3
    assert by_table.plaintext.to_pylist() == by_scan.plaintext.to_pylist()


def test_dask_cluster_gives_the_same_result(nl_phones: list[str]) -> None:
    distributed = pytest.importorskip("distributed")
    targets = parse_digests(_hex(nl_phones))
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = reverse(targets, _sub_keyspace(), client=client, chunk_size=250_000)
    assert result.engine == "dask"
    assert result.recovered_distinct == len(nl_phones)


# --------------------------------------------------------------------------- cost


def test_catalogue_is_priced_by_name() -> None:
    fake = {"md5": 1e8, "sha1": 5e7, "sha256": 2e7, "sha512": 1e6, "hmac-sha256": 1e7}
    fake |= {"pbkdf2-sha256": 10.0, "scrypt": 20.0, "argon2id": 5.0}
    prices = {p.scheme: p for p in price_catalogue(measure=False, measured=fake)}
    assert set(prices) == set(CATALOGUE)
    for name in ("salted-sha256", "uid2"):
        assert not prices[name].reversible and "not" in prices[name].reason
    assert "unknown key" in prices["hmac-sha256"].reason
    secs = prices["sha256"].seconds(6 * 10**7)
    assert secs["this machine (measured)"] == pytest.approx(3.0)
    assert secs["RTX 4090 (hashcat 6.2.6) (reference)"] == pytest.approx(6e7 / 21.98e9)
    pb = prices["pbkdf2-sha256"].reference["RTX 4090 (hashcat 6.2.6)"]
    assert pb == pytest.approx(8.87e6 * 999 / 600_000)


def test_kdf_rate_is_measured_not_brute_forced() -> None:
    rate = measure_kdf("pbkdf2-sha256", {"iterations": 1000})
    assert 10 < rate < 1e6


# --------------------------------------------------------------------------- CLI


def test_cli_attack_reports_and_writes_only_with_out(
    run_cli, tmp_path: Path, nl_phones: list[str]
) -> None:  # type: ignore[no-untyped-def]
    upload = tmp_path / "upload.csv"
    rows = [hashlib.sha256(p.encode()).hexdigest() for p in nl_phones[:20]]
    upload.write_text("id,PHONE\n" + "".join(f"{i},{h}\n" for i, h in enumerate(rows)))
    code, out, err = run_cli(
        "attack", upload, "--kind", "phone", "--region", "NL", "--lengths", "9",
        "--column", "PHONE", "--profile", "meta", "--no-cost",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"detected SHA-256 (hex) in {upload}; 20 rows, 20 distinct digests\n")
    assert "recovered 20 of 20 distinct (100.0% of rows)" in out
    assert "use --out FILE" in out
    assert [p.name for p in tmp_path.iterdir()] == ["upload.csv"]
    recovered = tmp_path / "recovered.csv"
    code, out, err = run_cli(
        "attack", upload, "--lengths", "9", "--no-cost", "--json", "--out", recovered
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["recovered"] == 20 and report["detected"]["algorithm"] == "sha256"
    with recovered.open() as fh:
        written = list(csv.reader(fh))
    assert written[0] == ["row", "plaintext"]
    assert sorted(written[1:]) == sorted([str(i), p] for i, p in enumerate(nl_phones[:20]))


def test_cli_errors_are_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert run_cli("attack", empty) == (1, "", f"Error: {empty}: the file is empty\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("hash\nnot-a-hash\nalso not\n")
    code, _, err = run_cli("attack", bad)
    assert code == 1
    assert err == (
        f"Error: {bad}: no recognisable hash digests (expected hex or Base64 of MD5, "
        "SHA-1, SHA-256 or SHA-512)\n"
    )
    ok = tmp_path / "ok.csv"
    ok.write_text(hashlib.sha256(b"x").hexdigest() + "\n")
    code, _, err = run_cli("attack", ok, "--number-type", "personal_number")
    assert (code, err) == (
        1,
        "Error: region NL has no personal_number numbers in its number plan\n",
    )
    code, _, err = run_cli("attack", ok, "--kind", "iris")
    assert (code, err) == (
        1,
        "Error: unknown --kind 'iris'; choose from phone, email, date, postcode, wordlist\n",
    )
    code, _, err = run_cli("attack", ok, "--column", "nope")
    assert (code, err) == (1, f"Error: {ok}: no column 'nope'; columns: f0\n")
