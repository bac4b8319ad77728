"""``matchsim reidentify``: known-answer vector, ground truth on seeded populations, the
two-routes check against ``risk``, HMAC, and one-line errors for hostile inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.attack import (
    Knowledge,
    Mask,
    MaskKeyspace,
    WordKeyspace,
    parse_digests,
    reverse,
)
from matchsim.attack.keyspace import number_range_masks
from matchsim.attack.reidentify import (
    draw_register,
    field_keyspace,
    register_from_table,
    reidentify,
    reverse_upload,
    score,
)
from matchsim.generate import Corruption, Population, PopulationParams, population
from matchsim.normalise import get_profile
from matchsim.risk import qi_risk
from matchsim.secrets import Secret
from matchsim.upload.write import hash_file

VECTORS = Path(__file__).parent / "vectors" / "meta_first_name.json"
QI = ("first_name", "last_name", "dob", "gender", "postcode")
LOW_ENTROPY = ("first_name", "last_name", "dob", "gender", "postcode", "city", "state", "country")


def _row_person(pop: Population) -> np.ndarray:
    """Evaluation: the true person of every customer row (uid, or -(cid + 1))."""
    uid = pq.read_table(pop.truth, columns=["uid"]).column("uid").combine_chunks()
    cid = np.arange(len(uid), dtype=np.int64)
    missing = uid.is_null().to_numpy(zero_copy_only=False)
    return np.where(missing, -(cid + 1), uid.fill_null(0).to_numpy()).astype(np.int64)


@pytest.fixture(scope="module")
def meta_upload(nl_population: Population, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reid") / "upload.csv"
    hash_file(nl_population.customers, profile="meta", scheme="sha256", region="NL", out=out)
    return out


# --------------------------------------------------------------------------- vector


def test_meta_documented_first_name_reverses_to_kelly() -> None:
    data = json.loads(VECTORS.read_text())
    assert data["url"].startswith("https://developers.facebook.com/")
    (vec,) = data["vectors"]
    assert hashlib.sha256(vec["plaintext"].encode()).hexdigest() == vec["digest"]
    table = pa.table({"FN": [vec["digest"]], "LN": [None]}, schema=pa.schema(
        [("FN", pa.string()), ("LN", pa.string())]
    ))  # fmt: skip
    got = reverse_upload(table, "meta", "US")
    assert got.values["first_name"].to_pylist() == [vec["plaintext"]]
    # Most likely first: a common name is among the first few hundred guesses.
    space = field_keyspace("first_name", get_profile("meta"), "US")
    assert isinstance(space, WordKeyspace)
    guesses = pa.concat_arrays(list(space.batches())).to_pylist()
    assert guesses.index(vec["plaintext"]) < 300
    # ... and by trying every string of five lowercase letters (26^5), no name table.
    lower = bytes(range(ord("a"), ord("z") + 1))
    space = MaskKeyspace("five lowercase letters", (Mask((lower,) * 5),))
    result = reverse(parse_digests(pa.array([vec["digest"]])), space)
    assert result.plaintext.to_pylist() == [vec["plaintext"]]


# --------------------------------------------------------------------------- truth


def test_ground_truth_precision(nl_population: Population, meta_upload: Path) -> None:
    table, person = draw_register(nl_population.out, coverage=0.8, seed=5)
    register = register_from_table(table, "meta", "NL")
    result = reidentify(meta_upload, "meta", "NL", register=register, email_guesses=20_000)
    summary = result.summary()
    fields = summary["fields"]
    for f in LOW_ENTROPY:
        assert fields[f]["hashed"] and fields[f]["share"] >= 0.97, (f, fields[f])
    assert fields["phone"]["share"] > 0.8  # every mobile; landlines are outside the keyspace
    link = summary["link"]
    n = summary["rows"]
    assert link["reidentified"] + link["ambiguous"] + link["not_found"] == n == 4_000
    truth = _row_person(nl_population)
    s = score(result, truth, person)
    hit = result.reidentified()
    covered = np.isin(truth, person)
    correct = person[np.maximum(result.linkage.match, 0)] == truth  # type: ignore[union-attr]
    # Unique in a register that covers the person: always the right person.
    assert bool(np.all(correct[hit & covered]))
    assert s["precision"] >= 0.999
    # Most covered rows are named; the uncovered ones cannot be (80 % coverage).
    assert 0.9 < s["reidentified_of_covered"] <= 1.0
    assert 0.65 < link["reidentified_share"] < 0.85
    # Named although neither the e-mail nor the phone was reversed: counted exactly.
    without = hit & ~(result.reversed.known("email") | result.reversed.known("phone"))
    assert link["reidentified_without_email_or_phone"] == int(without.sum()) > 100
    # The summary holds no plaintext.
    text = json.dumps(summary)
    sample = result.reversed.values["last_name"].drop_null()[0].as_py()
    assert f'"{sample}"' not in text


@pytest.fixture(scope="module")
def clean_population(tmp_path_factory: pytest.TempPathFactory) -> Population:
    """A population without first-name typos or missing dates of birth, so that every
    quasi-identifier of every customer is present and reversible."""
    params = PopulationParams(
        platform_users=6_000, customers=2_000, country="NL", overlap=0.6, seed=21,
        corruption=Corruption(name_typo=0.0, dob_missing=0.0),
    )  # fmt: skip
    return population(params, tmp_path_factory.mktemp("clean") / "pop")


@pytest.mark.parametrize("qi", [QI, ("dob", "gender"), ("last_name", "postcode")])
def test_two_routes_to_one_truth(
    clean_population: Population, tmp_path: Path, qi: tuple[str, ...]
) -> None:
    """Re-identified share (reverse the hashes, link) = share of rows whose plaintext QI
    combination is unique in the register, computed by ``risk`` (within 0.5 pp)."""
    pop = clean_population
    upload = tmp_path / "upload.csv"
    hash_file(pop.customers, profile="meta", scheme="sha256", region="NL", out=upload)
    table, _ = draw_register(pop.out, coverage=0.7, seed=3)
    reg = table.select(["id", *qi])
    result = reidentify(upload, "meta", "NL", register=register_from_table(reg, "meta", "NL"),
                        fields=list(qi), what_ifs=False)  # fmt: skip
    route_a = result.summary()["link"]["reidentified_share"]

    profile = get_profile("meta")
    customers = pq.read_table(pop.customers, columns=list(qi))
    plain = pa.table({f: profile.normalise(f, customers.column(f), "NL").values for f in qi})
    reg_plain = pa.table({f: profile.normalise(f, reg.column(f), "NL").values for f in qi})
    route_b = qi_risk(plain, list(qi), population=reg_plain, threshold=0.5)
    assert route_b.sample.journalist.records_at_risk == pytest.approx(route_a, abs=0.005)
    assert 0.0 < route_a < 1.0  # a register with 70 % coverage leaves rows unnamed


def test_hmac_reverses_nothing_and_names_nobody(nl_population: Population, tmp_path: Path) -> None:
    upload = tmp_path / "hmac.csv"
    key = Secret(b"k" * 32, "test")
    hash_file(nl_population.customers, profile="meta", scheme="hmac-sha256", region="NL",
              out=upload, secret=key)  # fmt: skip
    table, _ = draw_register(nl_population.out, coverage=1.0, seed=5)
    register = register_from_table(table, "meta", "NL")
    fields = ["first_name", "dob", "gender"]
    blind = reidentify(upload, "meta", "NL", register=register, fields=fields, what_ifs=False)
    assert all(blind.reversed.fields[f].reversed == 0 for f in fields)
    assert blind.summary()["link"]["reidentified"] == 0
    # The platform holds the key: the same fields fall to it.
    knows = reidentify(upload, "meta", "NL", register=register, fields=fields, what_ifs=False,
                       knowledge=Knowledge("sha256", hmac_key=key.value))  # fmt: skip
    assert knows.reversed.fields["dob"].share > 0.99
    assert knows.summary()["link"]["reidentified"] > 0


def test_what_ifs_clear_fields(nl_population: Population, meta_upload: Path) -> None:
    table, _ = draw_register(nl_population.out, coverage=1.0, seed=5)
    register = register_from_table(table, "meta", "NL")
    result = reidentify(meta_upload, "meta", "NL", register=register, fields=list(LOW_ENTROPY))
    by_name = {s.name: s for s in result.scenarios}
    assert by_name["meta under HMAC (nothing reversed)"].fields == ()
    assert by_name["meta under HMAC (nothing reversed)"].classes["reidentified"] == 0
    google = by_name["google under HMAC (clear fields only)"]
    assert google.fields == ("postcode", "country")  # Google takes both in clear
    assert by_name["linkedin under HMAC (clear fields only)"].fields == (
        "first_name", "last_name", "country",
    )  # fmt: skip


def test_population_uniqueness(nl_population: Population, meta_upload: Path) -> None:
    result = reidentify(meta_upload, "meta", "NL", population=nl_population.out,
                        fields=["dob", "gender", "postcode"], what_ifs=False)  # fmt: skip
    s = result.summary()
    assert s["link"]["register_kind"] == "population"
    assert s["link"]["register_rows"] == 20_000
    # On (PC6, date of birth, gender) customers are unique within their own file.
    assert s["within_upload"]["unique_share"] > 0.95


# --------------------------------------------------------------------------- CLI


def test_cli_json_and_out(
    run_cli, nl_population: Population, meta_upload: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    table, _ = draw_register(nl_population.out, coverage=1.0, seed=5)
    reg = tmp_path / "register.parquet"
    pq.write_table(table, reg)
    code, out, err = run_cli("reidentify", meta_upload, "--register", reg, "--json",
                             "--email-guesses", "1000", "--no-what-ifs")  # fmt: skip
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["link"]["register_rows"] == table.num_rows
    assert "out" not in data and not list(tmp_path.glob("*reid*"))
    dest = tmp_path / "reid"
    code, out, err = run_cli("reidentify", meta_upload, "--register", reg, "--out", dest,
                             "--email-guesses", "1000", "--no-what-ifs")  # fmt: skip
    assert code == 0, err
    assert "re-identified (one match)" in out
    written = pq.read_table(dest / "reidentified.parquet")
    assert written.num_rows == 4_000
    assert set(written.column("class").to_pylist()) <= {"reidentified", "ambiguous", "not_found"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["register.parquet", "reid"]


def test_cli_hostile_inputs(
    run_cli, nl_population: Population, meta_upload: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("a,b\n1,2\n")
    one = tmp_path / "one.csv"
    one.write_text("FN\n" + hashlib.sha256(b"kelly").hexdigest() + "\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("FN,LN,DOB\n,,\n,,\n")
    bad_reg = tmp_path / "register.csv"
    pacsv.write_csv(pa.table({"id": [1, 2], "shoe_size": [42, 43]}), bad_reg)
    no_id = tmp_path / "noid.csv"
    pacsv.write_csv(pa.table({"first_name": ["Jan"], "dob": ["1970-01-01"]}), no_id)
    cases = [
        (
            (unknown,),
            f"Error: {unknown}: is not in meta's upload layout: none of its columns (EMAIL, "
            "PHONE, FN, LN, DOB, GEN, CT, ST, ZIP, COUNTRY, MADID) is here (found: a, b)\n",
        ),
        (
            (one,),
            f"Error: {one}: has a single column ('FN'); reidentify links the fields of a row "
            "in meta's layout; reverse one column with matchsim attack\n",
        ),
        ((empty,), f"Error: {empty}: every column is empty (FN, LN, DOB)\n"),
        (
            (meta_upload, "--register", bad_reg, "--no-what-ifs", "--email-guesses", "10"),
            None,
        ),
        (
            (meta_upload, "--register", no_id),
            f"Error: {no_id}: no id column (looked for id, register_id, uid, cid, person_id, "
            "bsn; found: first_name, dob); give --register-id COLUMN\n",
        ),
        ((meta_upload, "--profile", "nope"), None),
        (
            (meta_upload, "--register", no_id, "--population", tmp_path),
            "Error: give --register or --population, not both\n",
        ),
        (
            (meta_upload, "--out", tmp_path),
            f"Error: --out {tmp_path} already exists and is not empty (use --force to "
            "replace it)\n",
        ),
    ]
    for args, expected in cases:
        code, _, err = run_cli("reidentify", *args)
        assert code == 1, (args, err)
        assert err.startswith("Error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
        if expected is not None:
            assert err == expected
    code, _, err = run_cli("reidentify", meta_upload, "--register", bad_reg, "--no-what-ifs",
                           "--email-guesses", "10")  # fmt: skip
    assert err.startswith(f"Error: {bad_reg}: has none of the fields the upload's rows can be")


# --------------------------------------------------------------------------- experiments


def test_experiment_attack_and_report(tmp_path: Path) -> None:
    from matchsim.experiment import parse_experiment, run_experiment

    tree = {
        "version": 1,
        "name": "reid",
        "seed": 4,
        "population": {"platform_users": 4_000, "customers": 800, "country": "NL"},
        "advertiser": {"name": "insurer", "profile": "meta"},
        "schemes": [{"name": "sha256"}, {"name": "hmac-sha256"}],
        "attacks": [{"kind": "reidentify", "coverage": 0.9, "guesses": 5_000}],
        "risk": {"qi": [["postcode", "dob", "gender"]]},
    }
    run = run_experiment(parse_experiment(tree), tmp_path / "run", measure_costs=False)
    plain, keyed = (s["attacks"][0] for s in run.results["schemes"])
    assert plain["kind"] == keyed["kind"] == "reidentify"
    assert plain["precision"] == 1.0 and plain["share"] > 0.7
    assert plain["reidentified"] + plain["ambiguous"] + plain["not_found"] == 800
    assert keyed["share"] == 0.0 and keyed["fields"]["dob"]["reversed"] == 0
    assert run.results["schemes"][0]["reidentify_share"] == plain["share"]
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Can an outsider name the people on the list?" in html
    assert "Named without e-mail or phone reversed" in html
    md = (tmp_path / "run" / "report.md").read_text()
    assert "Nobody was named under" in md


def test_register_draw_is_seeded(nl_population: Population) -> None:
    a, pa_ = draw_register(nl_population.out, coverage=0.5, seed=9)
    b, pb = draw_register(nl_population.out, coverage=0.5, seed=9)
    c, _ = draw_register(nl_population.out, coverage=0.5, seed=10)
    assert a.equals(b) and np.array_equal(pa_, pb)
    assert not a.equals(c)
    assert 0.45 < a.num_rows / (20_000 + 1_600) < 0.55  # every resident, half of them


def test_experiment_coverage_validated() -> None:
    from matchsim.errors import ConfigError
    from matchsim.experiment import parse_experiment

    tree = {"version": 1, "attacks": [{"kind": "reidentify", "coverage": 0}]}
    with pytest.raises(ConfigError, match=r"\[\[attacks\]\]\[0\]\.coverage: must be above 0"):
        parse_experiment(tree)


def test_customer_number_and_wordlist(tmp_path: Path) -> None:
    """A sequential customer number falls to the numeric masks; ``--wordlist`` names are
    tried first and found although no locale table holds them."""

    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    ids = [str(1_000 + 7 * i) for i in range(50)]
    table = pa.table({
        "EXTERN_ID": [sha(i) for i in ids],
        "FN": [sha("zyxwortel")] * 25 + [sha("anna")] * 25,
    })  # fmt: skip
    words = tmp_path / "names.txt"
    words.write_text("Zyxwortel\n")
    got = reverse_upload(table, "meta", "NL", wordlist=words)
    assert got.values["external_id"].to_pylist() == ids
    assert got.fields["external_id"].share == 1.0
    assert got.values["first_name"].to_pylist() == ["zyxwortel"] * 25 + ["anna"] * 25


# --------------------------------------------------------------------------- customer numbers


@settings(max_examples=300, deadline=None)
@given(lo=st.integers(0, 10**9), width=st.integers(0, 30_000))
def test_number_range_masks_cover_exactly_the_range(lo: int, width: int) -> None:
    masks = number_range_masks(lo, lo + width)
    got = [bytes(r).decode() for m in masks for r in m.decode(np.arange(m.size))]
    assert got == [str(x) for x in range(lo, lo + width + 1)]


def _with_ids(upload: Path, ids: list[str]) -> pa.Table:
    """The upload's hashed names with a hashed customer number column."""
    types = {c: pa.string() for c in ("FN", "LN")}
    table = pacsv.read_csv(upload, convert_options=pacsv.ConvertOptions(column_types=types))
    digests = [hashlib.sha256(i.encode()).hexdigest() for i in ids]
    return table.select(["FN", "LN"]).append_column("EXTERN_ID", pa.array(digests))


def test_sequential_customer_numbers_found_by_probe_then_range(
    nl_population: Population, meta_upload: Path
) -> None:
    """Customer numbers 3,007,000 + cid: the probe (3,000,000..3,009,999 among others)
    recovers three quarters, the cluster reads as sequential, and the range beside it
    recovers the rest; a small fraction of the 10^8 space is tried."""
    cid = pq.read_table(nl_population.customers, columns=["cid"]).column("cid").to_numpy()
    ids = [str(3_007_000 + int(c)) for c in cid]
    table = _with_ids(meta_upload, ids)
    got = reverse_upload(table, "meta", "NL", fields=["external_id"])
    rec = got.fields["external_id"]
    assert got.values["external_id"].to_pylist() == ids  # evaluation: every id, right
    assert rec.share == 1.0 and rec.note is None
    probe, sequential = rec.to_dict()["ranges"]
    assert probe["why"].startswith("probe") and [3_000_000, 3_009_999] in probe["ranges"]
    assert probe["recovered"] == 3_000 and probe["candidates"] == 370_000
    assert sequential["why"] == "sequential: beside the recovered cluster(s) 3007000..3009999"
    assert sequential["ranges"] == [[3_010_000, 3_010_999]]
    assert sequential["recovered"] == 1_000
    assert rec.candidates == 371_000


def test_random_twelve_digit_ids_reported_not_enumerable(
    nl_population: Population, meta_upload: Path
) -> None:
    rng = np.random.default_rng(17)
    ids = [str(x) for x in rng.integers(10**11, 10**12, 4_000)]
    table = _with_ids(meta_upload, ids).slice(0, 200)
    got = reverse_upload(table, "meta", "NL", fields=["external_id", "first_name"])
    rec = got.fields["external_id"]
    assert rec.present == 200 and rec.reversed == 0
    assert rec.note == (
        "200 of 200 distinct ids not enumerable within the ranges tried (the full 1-8 digit "
        "space was not asked for): the probe found no sequential numbering"
    )
    (probe,) = rec.to_dict()["ranges"]
    assert probe["candidates"] == 370_000 and probe["recovered"] == 0
    assert got.fields["first_name"].reversed > 150  # the rest of the row is still reversed
    # Asked for, the whole 1-8 digit space is tried (every number not probed) in vain.
    full = reverse_upload(table, "meta", "NL", fields=["external_id"], id_full_space=True)
    rec = full.fields["external_id"]
    assert rec.reversed == 0 and rec.candidates == 10**8
    assert rec.note is not None
    assert rec.note.startswith("200 of 200 distinct ids not enumerable within every number of 1-8")


# --------------------------------------------------------------------------- reuse


def test_experiment_reuses_phone_and_email_results(tmp_path: Path) -> None:
    """The run's phone and e-mail attacks reversed the same upload with the same
    keyspaces: reidentify takes their plaintexts and enumerates neither column again,
    with the same results as enumerating afresh."""
    from matchsim.attack.reidentify import experiment_attack
    from matchsim.experiment import parse_experiment, run_experiment

    tree = {
        "version": 1,
        "name": "reuse",
        "seed": 4,
        "population": {"platform_users": 4_000, "customers": 800, "country": "NL"},
        "advertiser": {"name": "insurer", "profile": "meta"},
        "schemes": [{"name": "sha256"}],
        "attacks": [
            {"kind": "phone"},
            {"kind": "email", "guesses": 5_000},
            {"kind": "reidentify", "coverage": 0.9, "guesses": 5_000},
        ],
        "risk": {"qi": [["postcode", "dob", "gender"]]},
    }
    experiment = parse_experiment(tree)
    folder = tmp_path / "run"
    run = run_experiment(experiment, folder, measure_costs=False)
    (entry,) = run.results["schemes"]
    phone, email, reused = entry["attacks"]
    fresh = experiment_attack(
        experiment.attacks[2], None, folder / entry["upload"]["path"],
        get_profile("meta"), "NL", folder / "population",
    )  # fmt: skip
    for f in ("phone", "email"):
        assert reused["fields"][f]["candidates"] == 0  # not enumerated again
        assert fresh["fields"][f]["candidates"] > 0 and fresh["fields"][f]["reused"] == 0
        assert reused["fields"][f]["reused"] > 0
    assert reused["fields"]["phone"]["reused"] == phone["recovered_distinct"]
    assert reused["fields"]["email"]["reused"] == email["recovered_distinct"]
    assert reused["fields"]["phone"]["reversed"] == phone["recovered"]
    assert reused["fields"]["email"]["reversed"] == email["recovered"]

    def comparable(r: dict) -> dict:  # type: ignore[type-arg]
        timing = ("seconds", "candidates", "reused")
        fields = {
            f: {k: v for k, v in d.items() if k not in timing} for f, d in r["fields"].items()
        }
        return {**{k: v for k, v in r.items() if k != "seconds"}, "fields": fields}

    assert comparable(reused) == comparable(fresh)
    assert reused["rows_with_contact_reversed"] > 0


def test_cli_id_full_space(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Numbers from 4,321,000 lie outside every probe block: without ``--id-full-space``
    they are reported not enumerable; with it, the full space finds them."""
    ids = [str(4_321_000 + i) for i in range(40)]
    upload = tmp_path / "upload.csv"
    pacsv.write_csv(pa.table({
        "EXTERN_ID": [hashlib.sha256(i.encode()).hexdigest() for i in ids],
        "FN": [hashlib.sha256(b"anna").hexdigest()] * 40,
    }), upload)  # fmt: skip
    code, out, err = run_cli("reidentify", upload, "--json")
    assert (code, err) == (0, "")
    rec = json.loads(out)["fields"]["external_id"]
    assert rec["reversed"] == 0 and "not enumerable within the ranges tried" in rec["note"]
    code, out, err = run_cli("reidentify", upload, "--id-full-space")
    assert (code, err) == (0, "")
    assert "reversed        40 of        40" in out
    assert (
        "    probe: small numbers and round starts: 0..9,999, 10,000..19,999, 20,000..29,999 "
        "and 34 more: 0 ids (370,000 candidates)\n"
    ) in out
    # the full space skips what the probe tried (100,000..109,999) and stops once all are found
    assert (
        "    full space: every number of 1-8 digits (asked for): 110,000..199,999, "
        "210,000..299,999, 310,000..399,999 and 24 more: 40 ids ("
    ) in out


def test_reuse_of_a_smaller_keyspace_enumerates_only_the_rest(meta_upload: Path) -> None:
    """An earlier e-mail attack with 1,000 guesses: its pairs are taken, the digests it
    left are enumerated with reidentify's own 5,000 guesses; the values equal a fresh run."""
    from matchsim.attack import email_keyspace, load_targets
    from matchsim.attack.reidentify import Recovered, read_table

    earlier = reverse(load_targets(meta_upload, "EMAIL"), email_keyspace("NL", max_guesses=1_000))
    assert 0 < earlier.recovered_distinct < earlier.distinct
    prior = Recovered.of(earlier, "an earlier attack")
    table = read_table(meta_upload)
    fresh = reverse_upload(table, "meta", "NL", fields=["email"], email_guesses=5_000)
    reused = reverse_upload(table, "meta", "NL", fields=["email"], email_guesses=5_000,
                            known={"email": prior})  # fmt: skip
    assert reused.values["email"].equals(fresh.values["email"])
    rec = reused.fields["email"]
    assert rec.reused == earlier.recovered_distinct and rec.candidates > 0
    assert rec.note == (
        f"{rec.reused:,} of {earlier.distinct:,} distinct digests reused from an earlier attack"
    )
    assert fresh.fields["email"].reused == 0
    assert reused.fields["email"].reversed > earlier.recovered_rows


def test_a_scheme_that_cannot_be_enumerated_is_not_enumerated(meta_upload: Path) -> None:
    """A salt per record or a KDF: the scheme's reason is reported per hashed field and
    nothing is tried (before, every field was swept with plain SHA-256 for nothing)."""
    got = reidentify(
        meta_upload, "meta", "NL", fields=["first_name", "dob", "gender"], what_ifs=False,
        not_enumerable="a salt per record",
    )  # fmt: skip
    for f in ("first_name", "dob", "gender"):
        rec = got.reversed.fields[f]
        assert rec.reversed == 0 and rec.candidates == 0
        assert rec.note == "not enumerable: a salt per record"


def test_an_attack_that_breaks_fails_closed(
    meta_upload: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error inside the enumeration is an error, not a field that "cannot be
    enumerated" (which would under-report what an attacker re-identifies)."""
    import matchsim.attack.reidentify as module
    from matchsim.errors import ConfigError

    def broken(*args: object, **kwargs: object) -> None:
        raise ConfigError("kernel broke (simulated)")

    monkeypatch.setattr(module, "reverse", broken)
    with pytest.raises(ConfigError, match="kernel broke"):
        reidentify(meta_upload, "meta", "NL", fields=["gender"], what_ifs=False)


def test_register_draw_names_an_unreadable_platform_file(tmp_path: Path) -> None:
    """A platform file that is not Parquet stops the register's draw with the join's own
    one-line error, not Arrow's: an overlapped run meets it in either process (the
    worker's join or this process's re-identification) and names it the same way."""
    from matchsim.errors import InputError
    from matchsim.join.platform import ParquetPlatform

    pop = population(PopulationParams(platform_users=200, customers=50, country="NL", seed=2),
                     tmp_path / "pop")  # fmt: skip
    (tmp_path / "pop" / "platform.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError) as drawn:
        draw_register(pop.out, coverage=0.9, seed=2)
    with pytest.raises(InputError) as joined:
        ParquetPlatform(pop.out / "platform.parquet", "meta", "sha256")
    assert drawn.value.one_line() == joined.value.one_line()
    assert drawn.value.one_line().endswith("platform.parquet: is not a readable Parquet file")
