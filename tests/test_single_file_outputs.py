"""Single-file outputs (``hash --out``, ``attack --out``, ``attack-table --out``): an existing
file is replaced only with ``--force``, and ``--force`` replaces only a file matchsim wrote."""

from __future__ import annotations

import hashlib
from pathlib import Path

SOMEONE_ELSES = "precious,data\n1,2\n"


def _crm(path: Path) -> Path:
    path.write_text("email,phone\njan@example.nl,0612345678\npiet@example.nl,0687654321\n")
    return path


def _upload(path: Path) -> Path:
    path.write_text("".join(hashlib.sha256(v).hexdigest() + "\n" for v in (b"6831234", b"6835999")))
    return path


def test_hash_refuses_existing_and_force_replaces_only_its_own(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crm = _crm(tmp_path / "crm.csv")
    out = tmp_path / "upload.csv"
    out.write_text(SOMEONE_ELSES)
    args = ("hash", crm, "--profile", "meta", "--region", "NL", "--out", out)
    code, _, err = run_cli(*args)
    assert (code, err) == (1, f"Error: --out {out} already exists (use --force to replace it)\n")
    code, _, err = run_cli(*args, "--force")
    assert code == 1
    assert err == (
        f"Error: --force will not replace {out}: it is not a file matchsim wrote; "
        "remove it yourself or choose another name\n"
    )
    assert out.read_text() == SOMEONE_ELSES
    out.unlink()
    assert run_cli(*args)[0] == 0
    first = out.read_text()
    code, _, err = run_cli(*args)  # our own upload: still not without --force
    assert code == 1 and "already exists (use --force" in err
    code, _, err = run_cli(*args, "--force")
    assert (code, err) == (0, "")
    assert out.read_text() == first


def test_hash_force_does_not_replace_a_foreign_rejects_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crm = _crm(tmp_path / "crm.csv")
    out, rejects = tmp_path / "upload.csv", tmp_path / "mine.csv"
    args = ("hash", crm, "--profile", "meta", "--region", "NL", "--out", out)
    assert run_cli(*args)[0] == 0
    rejects.write_text(SOMEONE_ELSES)  # not the rejects file the summary names
    code, _, err = run_cli(*args, "--rejects", rejects, "--force")
    assert code == 1 and f"--force will not replace {rejects}" in err
    assert rejects.read_text() == SOMEONE_ELSES


def test_attack_out_and_table_out_follow_the_same_rule(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    upload = _upload(tmp_path / "nu.csv")
    plain = tmp_path / "plain.csv"
    plain.write_text(SOMEONE_ELSES)
    attack = ("attack", upload, "--region", "NU", "--no-cost", "--out", plain)
    code, _, err = run_cli(*attack)
    assert (code, err) == (1, f"Error: --out {plain} already exists (use --force to replace it)\n")
    code, _, err = run_cli(*attack, "--force")
    assert code == 1 and "it is not a file matchsim wrote" in err
    assert plain.read_text() == SOMEONE_ELSES
    plain.unlink()
    assert run_cli(*attack)[0] == 0
    recovered = plain.read_text()
    assert recovered.splitlines()[0] == '"row","plaintext"'
    code, _, err = run_cli(*attack, "--force")
    assert (code, err) == (0, "")
    assert plain.read_text() == recovered

    table = tmp_path / "nu.parquet"
    table.write_text(SOMEONE_ELSES)
    code, _, err = run_cli("attack-table", "--region", "NU", "--out", table, "--force")
    assert code == 1 and f"--force will not replace {table}" in err
    assert table.read_text() == SOMEONE_ELSES
    table.unlink()
    assert run_cli("attack-table", "--region", "NU", "--out", table)[0] == 0
    assert run_cli("attack-table", "--region", "NU", "--out", table, "--force")[0] == 0


def test_a_long_output_path_is_named_whole(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A path cut to fit a line cannot be found; the message names it whole, whatever the
    # length of the test's own tmp folder.
    deep = tmp_path.joinpath(*(["a-folder-with-a-long-name"] * 6))
    deep.mkdir(parents=True)
    out = deep / "upload.csv"
    out.write_text(SOMEONE_ELSES)
    crm = _crm(tmp_path / "crm.csv")
    code, _, err = run_cli("hash", crm, "--profile", "meta", "--region", "NL", "--out", out)
    assert len(str(out)) > 160
    assert (code, err) == (1, f"Error: --out {out} already exists (use --force to replace it)\n")
