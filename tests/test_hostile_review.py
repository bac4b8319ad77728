"""Regressions found by a hostile review after the I/O layer landed: a key file inside the
folder ``--force`` replaces, a pasteable hashcat line, a register without ids."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from matchsim.attack.hcmask import hashcat_command
from matchsim.errors import OutputError
from matchsim.experiment import parse_experiment, run_experiment


def _upload(tmp_path: Path) -> Path:
    upload = tmp_path / "upload.csv"
    pacsv.write_csv(
        pa.table(
            {
                "FN": [hashlib.sha256(n.encode()).hexdigest() for n in ("anna", "jan")],
                "LN": [hashlib.sha256(n.encode()).hexdigest() for n in ("jansen", "smit")],
            }
        ),
        upload,
    )
    return upload


def test_reidentify_force_never_deletes_its_key_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    upload = _upload(tmp_path)
    out = tmp_path / "out"
    code, _, err = run_cli("reidentify", upload, "--no-what-ifs", "--out", out)
    assert (code, err) == (0, "")
    key = out / "k.txt"
    key.write_bytes(b"S3CRETKEYxyz987\n")
    code, _, err = run_cli(
        "reidentify", upload, "--no-what-ifs", "--hmac-key-file", key, "--out", out, "--force"
    )
    assert code == 1 and err.count("Error:") == 1 and "holds the input" in err
    assert "S3CRET" not in err
    assert key.read_bytes() == b"S3CRETKEYxyz987\n"


def test_reidentify_names_its_own_key_options(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "k.txt"
    key.write_bytes(b"k")
    code, _, err = run_cli(
        "reidentify", _upload(tmp_path), "--hmac-key-file", key, "--hmac-key-env", "FOO"
    )
    assert (
        code == 1
        and "--hmac-key-file" in err
        and "--key-file" not in err.replace("--hmac-key-file", "")
    )


def test_run_force_never_deletes_a_scheme_key_file(tmp_path: Path) -> None:
    tree = {
        "version": 1,
        "name": "keytest",
        "seed": 3,
        "population": {"platform_users": 500, "customers": 100},
        "schemes": [{"name": "hmac-sha256", "key_file": str(tmp_path / "out" / "k.txt")}],
    }
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text('{"matchsim_version": "0"}')
    key = tmp_path / "out" / "k.txt"
    key.write_bytes(b"RUNSECRETabc\n")
    with pytest.raises(OutputError, match="holds the input"):
        run_experiment(parse_experiment(tree), tmp_path / "out", force=True, measure_costs=False)
    assert key.read_bytes() == b"RUNSECRETabc\n"


def test_hashcat_line_is_quoted_for_the_shell() -> None:
    line = hashcat_command("sha256", Path("a b;touch PWNED.csv"), Path("m $(id).hcmask"))
    assert shlex.split(line) == [
        "hashcat", "-m", "1400", "-a", "3", "a b;touch PWNED.csv", "m $(id).hcmask",
    ]  # fmt: skip


def test_register_with_empty_ids_is_refused(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register = tmp_path / "register.parquet"
    pq.write_table(
        pa.table(
            {
                "id": pa.array([None, None], pa.string()),
                "first_name": ["anna", "jan"],
                "last_name": ["jansen", "smit"],
            }
        ),
        register,
    )
    code, _, err = run_cli("reidentify", _upload(tmp_path), "--register", register)
    assert code == 1 and err.count("Error:") == 1 and "have no id" in err
