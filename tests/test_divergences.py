"""One answer whichever verb asks: ``matchsim attack`` and ``matchsim run`` enumerate the
same keyspace for the same profile and region, every profile works in every verb, and an
attack that breaks inside ``matchsim run`` is an error, not a "feasible: false" row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matchsim.attack.keyspace import phone_lengths
from matchsim.attack.request import keyspace_for, people_lengths, phone_space
from matchsim.errors import ConfigError, InputError
from matchsim.experiment import AttackSpec, SchemeSpec
from matchsim.experiment.attacks import HashedValues as _HashedValues
from matchsim.experiment.attacks import attack as _attack
from matchsim.generate.people import e164
from matchsim.generate.phones import sample_numbers
from matchsim.locale.numberplan import number_plan
from matchsim.normalise import FIELDS, INPUT_COLUMNS, PROFILES
from matchsim.schemes import get_scheme
from matchsim.upload.write import hash_file

PHONE_PROFILES = [name for name, p in PROFILES.items() if "phone" in p.fields]


def test_ten_profiles_four_without_phones_is_what_the_tests_cover() -> None:
    assert len(PROFILES) == 10
    assert set(PROFILES) - set(PHONE_PROFILES) == {"linkedin", "pinterest"}


# --- NL phone keyspace: one default ----------------------------------------------------


def test_nl_mobile_default_is_peoples_numbers() -> None:
    # matchsim's NL locale: people carry 9-digit 06 numbers; the 11-digit 097 range is
    # machine-to-machine (phonenumbers lists both).
    assert people_lengths("NL", "mobile") == (9,)
    space = phone_space("NL")
    assert space.lengths == {9: 60_000_000} and space.keyspace.size == 60_000_000
    assert space.lengths_from == "locale" and space.left_out == {11: 100_000_000}
    assert keyspace_for("phone", region="NL").size == 60_000_000
    # Without a locale, every length phonenumbers allows; given lengths win.
    assert people_lengths("NU", "mobile") is None
    assert phone_space("NU").lengths == phone_lengths("NU") == {4: 2000, 7: 9000}
    assert phone_space("NL", lengths=(9, 11)).keyspace.size == 160_000_000


def test_nl_attack_and_run_enumerate_the_same_keyspace(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Numbers at the start of the keyspace: both paths stop after the first chunk.
    numbers = ["+31610000001", "+31610000002", "+31610000003"]
    customers = _customers(tmp_path / "c.parquet", numbers, ["a@b.nl"] * 3)
    upload = tmp_path / "upload.csv"
    hash_file(customers, profile="meta", scheme="sha256", region="NL", out=upload)
    by_run = _pipeline("phone", "meta", upload, customers, "NL")
    code, out, err = run_cli("attack", upload, "--column", "PHONE", "--no-cost", "--json")
    assert code == 0, err
    by_cli = json.loads(out)
    assert by_cli["keyspace_size"] == by_run["keyspace_size"] == 60_000_000
    assert by_cli["keyspace"] == by_run["keyspace"] == "NL mobile phones (digits)"
    assert by_cli["lengths"] == {"9": 60_000_000}
    # (the CLI's "recovered" counts distinct digests; results.json's counts rows)
    assert by_cli["recovered"] == by_run["recovered_distinct"] == 3
    code, out, err = run_cli("attack", upload, "--column", "PHONE", "--no-cost")
    assert code == 0, err
    assert (
        "  national numbers of 9 digits (60,000,000): the lengths people's NL mobile numbers "
        "have (matchsim's locale); left out: 11 digits (100,000,000), add with --lengths 9,11"
    ) in out.splitlines()


# --- both paths on the same upload, for every profile -----------------------------------


def _customers(path: Path, numbers: list[str], emails: list[str]) -> Path:
    n = len(numbers)
    cols: dict[str, pa.Array] = {"cid": pa.array(np.arange(n, dtype=np.int64))}
    for f in FIELDS:
        cols[INPUT_COLUMNS[f]] = pa.nulls(n, pa.string())
    cols["phone"] = pa.array(numbers)
    cols["email"] = pa.array(emails)
    pq.write_table(pa.table(cols), path)
    return path


@pytest.fixture(scope="module")
def customers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Niue mobiles (11,000 in its plan: a keyspace enumerated in milliseconds) and
    guessable Dutch e-mail addresses, one customer per row."""
    plan = number_plan("NU", "mobile")
    drawn = sample_numbers(np.random.default_rng(5), [plan], np.zeros(40, dtype=np.int64))
    numbers = sorted(set(e164(drawn).to_pylist()))
    emails = [f"jan.{i}@gmail.com" if i % 2 else "jan@hotmail.com" for i in range(len(numbers))]
    return _customers(tmp_path_factory.mktemp("nu") / "customers.parquet", numbers, emails)


def _pipeline(kind: str, profile: str, upload: Path, customers: Path, region: str) -> Any:
    scheme = get_scheme("sha256", encoding=PROFILES[profile].encoding)
    spec = AttackSpec(kind=kind, guesses=2_000)
    return _attack(spec, SchemeSpec(name="sha256"), scheme, None, upload, PROFILES[profile],
                   region, None, _HashedValues(customers, region))  # fmt: skip


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_attack_and_run_agree_for_every_profile(
    run_cli, profile: str, customers: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    prof = PROFILES[profile]
    upload = tmp_path / "upload.csv"
    hash_file(customers, profile=prof, scheme="sha256", region="NU", out=upload)
    kind = "phone" if "phone" in prof.fields else "email"
    region = "NU" if kind == "phone" else "NL"
    column = prof.fields[kind].column
    by_run = _pipeline(kind, profile, upload, customers, region)
    # The CLI with nothing but the profile picks the same kind (phone, or e-mail for a
    # profile that takes no phones) and the same keyspace.
    args = ["attack", upload, "--profile", profile, "--region", region, "--column", column,
            "--no-cost", "--json", "--max-guesses", "2000"]  # fmt: skip
    code, out, err = run_cli(*args)
    assert (code, err) == (0, "")
    by_cli = json.loads(out)
    assert by_run["feasible"] is True
    for key in ("keyspace", "keyspace_size", "distinct", "share"):
        assert by_cli[key] == pytest.approx(by_run[key]), key
    # (the CLI's "recovered" counts distinct digests; results.json's counts rows)
    assert by_cli["recovered"] == by_run["recovered_distinct"]
    assert by_cli["recovered_rows"] == by_run["recovered"]
    if kind == "phone":
        assert by_run["recovered_distinct"] == by_run["distinct"] > 0
        assert by_run["precision"] == 1.0
    # Every profile works in attack-table too: a phone table where the profile takes
    # phones, a clear error (not "unknown phone style 'None'") where it does not.
    code, out, err = run_cli("attack-table", "--profile", profile, "--region", "NU",
                             "--out", tmp_path / "t.parquet", "--json")  # fmt: skip
    if kind == "phone":
        assert code == 0, err
        assert json.loads(out)["keyspace"] == by_cli["keyspace"]
    else:
        assert code == 1
        assert err.startswith(f"Error: profile {profile} takes no phone numbers")
        assert "None" not in err
    # ...and in hash.
    code, out, err = run_cli("hash", "jan@example.nl", "--field", "email", "--profile", profile)
    assert code == 0, err


@pytest.mark.parametrize("profile", ["linkedin", "pinterest"])
def test_phone_attack_on_a_profile_without_phones(
    run_cli, profile: str, customers: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    upload = tmp_path / "upload.csv"
    hash_file(customers, profile=profile, scheme="sha256", region="NU", out=upload)
    by_run = _pipeline("phone", profile, upload, customers, "NU")
    assert by_run == {"kind": "phone", "knows_secret": False, "feasible": False,
                      "reason": f"{profile} takes no phone"}  # fmt: skip
    code, _, err = run_cli("attack", upload, "--profile", profile, "--kind", "phone")
    assert code == 1 and err.startswith(f"Error: profile {profile} takes no phone numbers")
    # An explicit format is the user's word: it is used.
    args = ["--style", "e164", "--region", "NU", "--no-cost", "--json"]
    code, out, err = run_cli("attack", upload, "--profile", profile, "--kind", "phone", *args)
    assert code == 0, err
    assert json.loads(out)["keyspace"] == "NU mobile phones (e164)"


# --- fail closed ----------------------------------------------------------------------


def test_a_broken_attack_is_an_error(customers: Path, tmp_path: Path) -> None:
    upload = tmp_path / "upload.csv"
    hash_file(customers, profile="meta", scheme="sha256", region="NU", out=upload)
    scheme = get_scheme("sha256", encoding="hex")
    hashed = _HashedValues(customers, "NU")
    # A number type the region lacks is a mistake in the experiment, not an infeasible
    # attack: before, this became {"feasible": False, "reason": ...} and the run exited 0.
    spec = AttackSpec(kind="phone", number_type="pager")
    with pytest.raises(ConfigError, match="pager"):
        _attack(spec, SchemeSpec(name="sha256"), scheme, None, upload, PROFILES["meta"], "NU",
                None, hashed)  # fmt: skip
    # A broken upload file is an error too.
    broken = tmp_path / "broken.csv"
    broken.write_text("")
    with pytest.raises(InputError):
        _attack(AttackSpec(kind="phone"), SchemeSpec(name="sha256"), scheme, None, broken,
                PROFILES["meta"], "NU", None, hashed)  # fmt: skip


def test_an_attack_that_cannot_work_says_why(customers: Path, tmp_path: Path) -> None:
    # An upload of tokens that are no hash digest (an operator's encrypted IDs).
    upload = tmp_path / "upload.csv"
    upload.write_text("PHONE\n" + "".join(f"token-{i:04d}\n" for i in range(10)))
    result = _pipeline("phone", "meta", upload, customers, "NU")
    assert result["feasible"] is False
    assert result["reason"].startswith("digests not enumerable: no recognisable hash digests")


def test_the_cli_offers_the_kinds_the_library_enumerates() -> None:
    # The CLI keeps its own copy for --help (importing the attack package at start-up
    # would load numba); it must not drift from the library's.
    from matchsim.attack.request import ALGORITHMS, KINDS, TABLE_KINDS
    from matchsim.cli import cmd_attack, cmd_attack_table

    assert cmd_attack.KINDS == KINDS
    assert cmd_attack_table.TABLE_KINDS == TABLE_KINDS
    assert cmd_attack_table.ALGORITHMS == ALGORITHMS


_TIMINGS = {"seconds", "hashes_per_second", "exhaust_seconds"}


def test_the_cli_and_the_library_answer_one_attack_request(run_cli: Any, tmp_path: Path) -> None:
    # `matchsim attack` only parses into an AttackRequest and renders what run_attack
    # returns: the same request through the library gives the same report and the same
    # plaintext file.
    import hashlib

    from matchsim.attack.request import AttackRequest, KeyspaceRequest
    from matchsim.attack.run import run_attack

    values = ["6835801", "6836123", "6838881234"]  # NU mobiles: 4 and 7 digits
    upload = tmp_path / "nu.csv"
    upload.write_text("".join(hashlib.sha256(v.encode()).hexdigest() + "\n" for v in values))
    code, out, err = run_cli("attack", upload, "--region", "NU", "--lengths", "4,7",
                             "--no-cost", "--json", "--out", tmp_path / "cli.csv")  # fmt: skip
    assert (code, err) == (0, "")
    request = AttackRequest(
        upload, KeyspaceRequest(region="NU", lengths=(4, 7)), cost=False,
        out=tmp_path / "lib.csv",
    )  # fmt: skip
    outcome = run_attack(request)
    cli = {k: v for k, v in json.loads(out).items() if k not in _TIMINGS | {"out"}}
    lib = {k: v for k, v in outcome.report.items() if k not in _TIMINGS | {"out"}}
    assert json.loads(json.dumps(lib)) == cli
    assert cli["recovered"] == 3 and cli["lengths"] == {"4": 2_000, "7": 9_000}
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "lib.csv").read_bytes()
    assert outcome.lines[-1] == "recovered 3 of 3 distinct (100.0% of rows)"
