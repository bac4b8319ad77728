"""``matchsim hash`` and ``hash_file``: outputs, layouts, rejects, exact errors."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from matchsim.generate import CUSTOMERS_FILE, Population
from matchsim.secrets import Secret, load_secret
from matchsim.upload.write import hash_file


def test_single_value_text_and_json(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("hash", "06-12345678", "--field", "phone", "--region", "NL")
    digest = hashlib.sha256(b"31612345678").hexdigest()
    assert (code, err) == (0, "")
    assert out == f"normalised: 31612345678\nsha256: {digest}\n"
    code, out, _ = run_cli(
        "hash", "USER@example.com", "--field", "email", "--profile", "uid2", "--json"
    )
    assert code == 0
    assert json.loads(out) == {
        "field": "email", "input": "USER@example.com", "normalised": "user@example.com",
        "hash": "tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ=", "scheme": "sha256",
        "profile": "uid2",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("x", "--field", "email", "--profile", "orkut"),
            "Error: unknown profile 'orkut'; known profiles: meta, meta-sdk, google, "
            "google-ads-legacy, uid2, tiktok, x, linkedin, snapchat, pinterest\n",
        ),
        (
            ("x@y.nl", "--field", "email", "--scheme", "rot13"),
            "Error: unknown scheme 'rot13'; known schemes: argon2id, hmac-sha256, md5, "
            "pbkdf2-sha256, pepper-sha256, salted-sha256, scrypt, sha1, sha256, sha512, "
            "truncated-sha256, uid2\n",
        ),
        (
            ("x@y.nl", "--field", "email", "--scheme", "hmac-sha256"),
            "Error: scheme hmac-sha256 needs a secret key shared by advertiser and platform; "
            "give --key-file or --key-env\n",
        ),
        (
            ("x@y.nl", "--field", "email", "--scheme", "hmac-sha256", "--key-env", "NOPE_UNSET"),
            "Error: environment variable NOPE_UNSET holding the key for scheme hmac-sha256 is "
            "not set\n",
        ),
        (
            ("x@y.nl", "--field", "email", "--scheme", "hmac-sha256", "--key-file", "/no/key"),
            "Error: key for scheme hmac-sha256 file '/no/key' does not exist\n",
        ),
        (("no-at", "--field", "email"), "Error: email 'no-at' rejected by meta: no @\n"),
        (("x@y.nl",), "Error: give --field (email, phone, …) to hash a single value\n"),
        (
            ("x@y.nl", "--field", "email", "--param", "key=abc"),
            "Error: --param key: secrets come only from --key-file or --key-env\n",
        ),
        (
            ("a", "--field", "first_name", "--profile", "uid2"),
            "Error: profile uid2 takes no first_name; it takes: email, phone\n",
        ),
    ],
)
def test_user_errors_are_one_line(run_cli, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("hash", *args)
    assert (code, out, err) == (1, "", message)


def test_keyed_value_from_key_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "key"
    key.write_bytes(b"s3cret\n")
    code, out, _ = run_cli(
        "hash", "a@b.nl", "--field", "email", "--scheme", "hmac-sha256", "--key-file", key,
        "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["hash"] == hmac.new(b"s3cret", b"a@b.nl", "sha256").hexdigest()
    assert "s3cret" not in out


def test_file_to_meta_layout(run_cli, nl_population: Population, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "upload.csv"
    code, stdout, err = run_cli(
        "hash", nl_population.out / CUSTOMERS_FILE, "--profile", "meta", "--out", out, "--json"
    )
    assert (code, err) == (0, "")
    summary = json.loads(stdout)
    assert summary["rows_in"] == 4000 and summary["region"] == "NL"
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["EMAIL", "PHONE", "FN", "LN", "DOB", "GEN", "CT", "ST", "ZIP",
                             "COUNTRY", "MADID"]  # fmt: skip
    assert len(rows) == 4000
    customers = pq.read_table(nl_population.out / CUSTOMERS_FILE).to_pylist()
    first = customers[0]
    assert rows[0]["FN"] == hashlib.sha256(first["first_name"].lower().encode()).hexdigest()
    phones = summary["fields"]["phone"]
    assert phones["written"] + phones["rejected"] + phones["missing"] == 4000
    assert json.loads((tmp_path / "upload.summary.json").read_text()) == summary
    assert (
        (tmp_path / "upload.rejects.csv")
        .read_text()
        .startswith('"row","field","column","input","action","reason"')
    )


def test_dutch_excel_csv_with_bom_and_semicolons(tmp_path: Path) -> None:
    src = tmp_path / "export.csv"
    src.write_bytes(
        "\ufeffE-mail;Telefoon;Voornaam\r\n"
        "Jan.Jansen@Gmail.com;06-12345678;Jan\r\n"
        "geen-adres;0612;Piet\r\n"
        ";;\r\n".encode()
    )
    summary = hash_file(src, profile="google", region="NL", out=tmp_path / "up.parquet")
    table = pq.read_table(tmp_path / "up.parquet")
    assert table.column_names[:3] == ["Email", "Phone", "First Name"]
    assert table["Email"][0].as_py() == hashlib.sha256(b"janjansen@gmail.com").hexdigest()
    assert table["Phone"][0].as_py() == hashlib.sha256(b"+31612345678").hexdigest()
    assert summary.rows_in == 3
    assert summary.fields["email"].unmatchable == 1  # Google accepts it, it never matches
    assert summary.fields["phone"].reasons == {
        "accepted, never matches: not a valid number for region NL": 1
    }
    assert summary.fields["email"].missing == 1


def test_meta_rejects_are_counted_and_listed(tmp_path: Path) -> None:
    src = tmp_path / "crm.csv"
    src.write_text("email,phone\nok@x.nl,0612345678\nbroken,123\n")
    summary = hash_file(src, profile="meta", region="NL", out=tmp_path / "up.csv")
    assert summary.fields["email"].reasons == {"no @": 1}
    assert summary.fields["phone"].reasons == {"not a valid number for region NL": 1}
    assert summary.rejected == 2
    with (tmp_path / "up.rejects.csv").open() as fh:
        rejects = list(csv.DictReader(fh))
    assert [(r["row"], r["field"], r["input"], r["action"]) for r in rejects] == [
        ("1", "email", "broken", "rejected"), ("1", "phone", "123", "rejected"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,shoe\nx,42\n", "has no identifier column that profile meta takes"),
        (b"\xff\xfe\x00e\x00m\x00a\x00i\x00l\x00\n\x00" * 3, "is not UTF-8 text"),
        (b"", "is empty"),
    ],
)
def test_bad_files_are_one_line_errors(
    run_cli,
    tmp_path: Path,
    content: bytes,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(content)
    code, out, err = run_cli("hash", src, "--region", "NL", "--out", tmp_path / "o.csv")
    assert code == 1 and out == ""
    assert err.startswith(f"Error: {src}: {message}") and err.count("\n") == 1


def test_missing_file_and_region(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("hash", tmp_path / "nope.csv", "--out", tmp_path / "o.csv")
    assert (code, err) == (1, f"Error: {tmp_path / 'nope.csv'}: does not exist\n")
    src = tmp_path / "in.csv"
    src.write_text("email\na@b.nl\n")
    code, _, err = run_cli("hash", src, "--out", tmp_path / "o.csv")
    assert (code, err) == (
        1, f"Error: {src}: cannot tell the phone region from the file; give --region "
        "(e.g. --region NL)\n",
    )  # fmt: skip


def test_secret_never_shows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATCHSIM_KEY", "hunter2")
    secret = load_secret(env="MATCHSIM_KEY")
    assert "hunter2" not in repr(secret) + str(secret)
    assert repr(secret) == "Secret(env MATCHSIM_KEY)"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
    assert secret == Secret(b"hunter2")
