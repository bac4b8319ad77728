"""Hostile inputs for every verb (issue 13): what a careful tester throws at matchsim.

Each error case asserts: the exit code, exactly one ``Error:`` line on stderr (its gist),
no traceback, no file changed or added anywhere under the test's folders (inputs are
hashed before and after), so no partial output either. Each accepted-input case asserts
exit 0, the right answer, and that the input file is unchanged. Everything runs
in-process (``matchsim.cli.main``); the signal cases, which need a real process, live in
``test_hostile_signals.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from matchsim.cli import main
from matchsim.generate import Population, PopulationParams, population

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
PHONE = "0612345678"
PHONE_SHA = hashlib.sha256(b"31612345678").hexdigest()  # Meta: digits with country code
CRM = f"email,phone\na@b.nl,{PHONE}\nc@d.nl,0687654321\n"
RESULTS_SCHEMA = "matchsim.results/1"
EVIL_DESCRIPTION = "<img src=x onerror=alert(2)> [x](javascript:alert(3))"


@pytest.fixture(scope="module")
def pop(tmp_path_factory: pytest.TempPathFactory) -> Population:
    params = PopulationParams(platform_users=300, customers=40, seed=5, chunk_size=1000)
    return population(params, tmp_path_factory.mktemp("hostile") / "pop")


# --------------------------------------------------------------------------- harness


def snapshot(*roots: Path) -> dict[str, str]:
    """Every entry under ``roots``: path -> content hash (``dir`` for folders); caches
    that libraries keep in the home folder (matplotlib's font list) are not ours."""
    out: dict[str, str] = {}
    for root in roots:
        for dirpath, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in (".cache", ".config")]
            for d in dirs:
                out[os.path.join(dirpath, d)] = "dir"
            for f in files:
                p = os.path.join(dirpath, f)
                if os.path.islink(p) and not os.path.exists(p):
                    out[p] = "dangling"
                    continue
                try:
                    with open(p, "rb") as fh:
                        out[p] = hashlib.sha256(fh.read()).hexdigest()
                except OSError:
                    out[p] = "unreadable"
    return out


def run(*args: object, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def assert_one_error(code: int, err: str, expected_code: int, gist: str) -> None:
    assert code == expected_code, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert gist in lines[0], lines[0]
    assert "\x1b" not in err  # control characters from inputs are shown escaped


@dataclass
class Case:
    """args(w) -> argv; ``gist`` must be in the one Error: line; ``never`` must not."""

    id: str
    args: Callable[[W], list[object]]
    gist: str
    code: int = 1
    never: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    skip: str | None = None


class W:
    """The test's working folder with small input files, made on demand."""

    def __init__(self, root: Path, pop: Population) -> None:
        self.root = root
        self.pop = pop.out

    def file(self, name: str, data: bytes | str) -> Path:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return p

    def crm(self) -> Path:
        return self.file("crm.csv", CRM)

    def upload(self) -> Path:
        from matchsim.upload.write import hash_file

        up = self.root / "in" / "upload.csv"
        if not up.exists():
            up.parent.mkdir(exist_ok=True)
            hash_file(self.crm(), profile="meta", region="NL", out=up)
        return up

    def parquet(self, name: str, table: pa.Table) -> Path:
        p = self.root / name
        pq.write_table(table, p)
        return p

    def results(self, data: object) -> Path:
        run_dir = self.root / "run"
        run_dir.mkdir(exist_ok=True)
        (run_dir / "results.json").write_text(data if isinstance(data, str) else json.dumps(data))
        return run_dir

    def experiment(self, body: str) -> Path:
        return self.file("exp.toml", "version = 1\n" + body)

    def pop_upload(self) -> Path:
        """The population's own customers, hashed: an upload the join evaluates."""
        from matchsim.upload.write import hash_file

        up = self.root / "in" / "customers-upload.csv"
        if not up.exists():
            up.parent.mkdir(exist_ok=True)
            hash_file(self.pop / "customers.parquet", profile="meta", region="NL", out=up)
        return up

    def broken_pop(self, name: str, data: bytes | pa.Table, **write: Any) -> Path:
        """A copy of the population with file ``name`` replaced: garbage bytes, or a
        Parquet table of other columns (written with ``write``'s options)."""
        d = self.root / "badpop"
        if not d.exists():
            shutil.copytree(self.pop, d)
        if isinstance(data, pa.Table):
            pq.write_table(data, d / name, **write)
        else:
            (d / name).write_bytes(data)
        return d

    def foreign(self) -> Path:
        """A folder matchsim never wrote, holding someone's file."""
        d = self.root / "mine"
        d.mkdir(exist_ok=True)
        (d / "thesis.docx").write_text("years of work")
        return d


def _good_results(**over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "schema": RESULTS_SCHEMA,
        "matchsim_version": "test",
        "experiment": {"name": "x", "description": "", "seed": 1},
        "population": {"platform_users": 10, "customers": 2},
    }
    data.update(over)
    return data


def _dup_parquet(w: W) -> Path:
    table = pa.Table.from_arrays([pa.array(["a@b.nl"]), pa.array(["x"])], names=["email", "email"])
    return w.parquet("dup.parquet", table)


HASH = ("hash",)
OUT = ("--region", "NL", "--out", "up.csv")

CASES: list[Case] = [
    # ---- hash: files that are not customer tables
    Case("hash-empty", lambda w: [*HASH, w.file("e.csv", b""), *OUT], "is empty"),
    Case("hash-blank", lambda w: [*HASH, w.file("e.csv", b"  \n\n \r\n"), *OUT], "is empty"),
    Case(
        "hash-header-only",
        lambda w: [*HASH, w.file("h.csv", "email,phone\n"), *OUT],
        "has a header but no rows",
    ),
    Case(
        "hash-nul",
        lambda w: [*HASH, w.file("n.csv", b"email,phone\na\x00@b.nl,1\n"), *OUT],
        "NUL byte",
    ),
    Case(
        "hash-utf16-no-bom",
        lambda w: [*HASH, w.file("u.csv", CRM.encode("utf-16-le")), *OUT],
        "UTF-16",
    ),
    Case(
        "hash-duplicate-header",
        lambda w: [*HASH, w.file("d.csv", "email,phone,email\na@b.nl,1,c@d.nl\n"), *OUT],
        "column name 'email' appears twice",
    ),
    Case(
        "hash-duplicate-header-parquet",
        lambda w: [*HASH, _dup_parquet(w), *OUT],
        "appears twice",
    ),
    Case(
        "hash-header-differs-in-case",
        lambda w: [*HASH, w.file("d.csv", "Email,phone,EMAIL\na@b.nl,1,c@d.nl\n"), *OUT],
        "differ only in case",
    ),
    Case(
        "hash-parquet-list",
        lambda w: [
            *HASH,
            w.parquet("l.parquet", pa.table({"email": pa.array([["a@b.nl"]])})),
            *OUT,
        ],
        "holds list values",
    ),
    Case(
        "hash-parquet-binary",
        lambda w: [
            *HASH,
            w.parquet("b.parquet", pa.table({"email": pa.array([b"a@b.nl"], pa.binary())})),
            *OUT,
        ],
        "holds binary values",
    ),
    Case(
        "hash-not-parquet",
        lambda w: [*HASH, w.file("x.parquet", CRM), *OUT],
        "not a readable Parquet file",
    ),
    Case(
        "hash-ragged-row",
        lambda w: [*HASH, w.file("r.csv", "email,phone\na@b.nl,1,extra\n"), *OUT],
        "a row has 3 fields where the header has 2",
    ),
    Case("hash-missing", lambda w: [*HASH, w.root / "nope.csv", *OUT], "does not exist"),
    Case("hash-folder", lambda w: [*HASH, w.root, "--region", "NL", "--out", "u.csv"], "folder"),
    Case(
        "hash-dangling-symlink",
        lambda w: [*HASH, _dangling(w), *OUT],
        "does not exist",
    ),
    Case(
        "hash-binary-garbage",
        lambda w: [*HASH, w.file("g.csv", bytes(range(256)) * 4), *OUT],
        "NUL byte",
    ),
    Case(
        "hash-escape-in-header",
        lambda w: [*HASH, w.file("esc.csv", "\x1b[31mname,shoe\nx,1\n"), *OUT],
        "\\x1b[31mname",
    ),
    Case(
        "hash-not-cp1252",
        lambda w: [*HASH, w.file("c.csv", b"email,phone\n\x81\x8d\x8f,1\n"), *OUT],
        "neither UTF-8 nor Windows-1252",
    ),
    # ---- hash: outputs that would destroy an input or each other
    Case(
        "hash-out-is-input",
        lambda w: [*HASH, w.crm(), "--region", "NL", "--out", w.crm()],
        "is the input",
    ),
    Case(
        "hash-rejects-is-input",
        lambda w: [*HASH, w.crm(), "--region", "NL", "--out", "up.csv", "--rejects", w.crm()],
        "--rejects",
    ),
    Case(
        "hash-out-hard-link-to-input",
        lambda w: [*HASH, w.crm(), "--region", "NL", "--out", _hard_link(w)],
        "is the input",
    ),
    Case(
        "hash-rejects-is-out",
        lambda w: [*HASH, w.crm(), "--region", "NL", "--out", "up.csv", "--rejects", "up.csv"],
        "name the same file",
    ),
    Case(
        "hash-out-inside-input",
        lambda w: [*HASH, w.crm(), "--region", "NL", "--out", w.crm() / "x.csv"],
        "is inside",
    ),
    Case(
        "hash-summary-is-input",
        lambda w: [
            *HASH,
            w.file("up.summary.json", CRM.replace(",", ";")),
            "--region",
            "NL",
            "--out",
            "up.csv",
        ],
        "the summary",
    ),
    Case(
        "hash-out-is-folder",
        lambda w: [*HASH, w.crm(), "--region", "NL", "--out", w.foreign()],
        "folder",
    ),
    Case(
        "hash-readonly-folder",
        lambda w: [*HASH, w.crm(), "--region", "NL", "--out", _readonly(w) / "up.csv"],
        "not writable",
        skip="root writes anywhere" if ROOT else None,
    ),
    # ---- hash: wrong answers that must be errors, secrets that must not show
    Case("hash-region-zz", lambda w: [*HASH, w.crm(), "--region", "ZZ", "--out", "u.csv"], "ZZ"),
    Case(
        "hash-value-region-zz",
        lambda w: [*HASH, PHONE, "--field", "phone", "--region", "ZZ"],
        "unknown --region",
    ),
    Case(
        "hash-key-for-keyless-scheme",
        lambda w: [*HASH, PHONE, "--field", "phone", "--key-file", w.file("k", "s3cret\n")],
        "takes no key",
        never=("s3cret",),
    ),
    Case(
        "hash-param-salt",
        lambda w: [
            *HASH,
            PHONE,
            "--field",
            "phone",
            "--scheme",
            "pbkdf2-sha256",
            "--param",
            "salt=TopSecretSalt",
        ],
        "--param salt",
        code=1,
        never=("TopSecretSalt",),
    ),
    Case(
        "hash-param-key",
        lambda w: [*HASH, PHONE, "--field", "phone", "--param", "key=TopSecretKey"],
        "secrets come only from",
        never=("TopSecretKey",),
    ),
    Case(
        "hash-key-file-is-the-secret",
        lambda w: [
            *HASH,
            PHONE,
            "--field",
            "phone",
            "--scheme",
            "hmac-sha256",
            "--key-file",
            "Sup3rS3cretKey",
        ],
        "not shown",
        never=("Sup3rS3cretKey",),
    ),
    Case(
        "hash-key-env-is-the-secret",
        lambda w: [
            *HASH,
            PHONE,
            "--field",
            "phone",
            "--scheme",
            "hmac-sha256",
            "--key-env",
            "correct horse battery staple",
        ],
        "not a variable name",
        never=("horse",),
    ),
    Case(
        "hash-key-env-unset",
        lambda w: [
            *HASH,
            PHONE,
            "--field",
            "phone",
            "--scheme",
            "hmac-sha256",
            "--key-env",
            "MATCHSIM_HOSTILE_UNSET",
        ],
        "MATCHSIM_HOSTILE_UNSET holding the key for scheme hmac-sha256 is not set",
    ),
    Case(
        "hash-key-file-empty",
        lambda w: [
            *HASH,
            PHONE,
            "--field",
            "phone",
            "--scheme",
            "hmac-sha256",
            "--key-file",
            w.file("empty.key", "\n"),
        ],
        "is empty",
    ),
    Case(
        "hash-unknown-scheme",
        lambda w: [*HASH, PHONE, "--field", "phone", "--scheme", "rot13"],
        "unknown scheme",
    ),
    # ---- generate: --force and --out
    Case(
        "generate-force-cwd",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--out",
            ".",
            "--force",
        ],
        "will not replace",
    ),
    Case(
        "generate-force-root",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--out",
            "/",
            "--force",
        ],
        "will not replace",
    ),
    Case(
        "generate-force-home",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--out",
            os.environ["HOME"],
            "--force",
        ],
        "will not replace",
    ),
    Case(
        "generate-out-home-no-force",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--out",
            os.environ["HOME"],
        ],
        "--out cannot be",
    ),
    Case(
        "generate-out-cwd-no-force",
        lambda w: ["generate", "--platform-users", "50", "--customers", "5", "--out", "."],
        "--out cannot be",
    ),
    Case(
        "generate-force-parent-of-cwd",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--out",
            "..",
            "--force",
        ],
        "will not replace",
    ),
    Case(
        "generate-force-foreign-folder",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--out",
            w.foreign(),
            "--force",
        ],
        "not a folder matchsim wrote",
    ),
    Case(
        "generate-not-empty",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--out",
            w.foreign(),
        ],
        "already exists and is not empty",
    ),
    Case(
        "generate-out-is-file",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--out",
            w.crm(),
        ],
        "is not a folder",
    ),
    Case(
        "generate-ten-billion",
        lambda w: ["generate", "--platform-users", "10_000_000_000", "--out", "p"],
        "at most",
    ),
    Case(
        "generate-country-zz",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--country",
            "ZZ",
            "--out",
            "p",
        ],
        "unknown country",
    ),
    Case(
        "generate-force-undeletable",
        lambda w: [
            "generate",
            "--platform-users",
            "50",
            "--customers",
            "5",
            "--out",
            _undeletable(w),
            "--force",
        ],
        "not writable",
        skip="root deletes anything" if ROOT else None,
    ),
    # ---- join
    Case(
        "join-out-is-platform",
        lambda w: ["join", "--platform", w.pop, "--upload", w.upload(), "--out", w.pop, "--force"],
        "is the input",
    ),
    Case(
        "join-out-inside-platform",
        lambda w: ["join", "--platform", w.pop, "--upload", w.upload(), "--out", w.pop / "j"],
        "is inside",
    ),
    Case(
        "join-out-inside-population-named-by-its-file",
        lambda w: [
            "join",
            "--platform",
            w.pop / "platform.parquet",
            "--upload",
            w.upload(),
            "--out",
            w.pop / "j",
        ],
        "is inside",
    ),
    Case(
        "join-out-holds-upload",
        lambda w: [
            "join",
            "--platform",
            w.pop,
            "--upload",
            w.upload(),
            "--out",
            w.upload().parent,
            "--force",
        ],
        "input",
    ),
    Case(
        "join-force-cwd",
        lambda w: ["join", "--platform", w.pop, "--upload", w.upload(), "--out", ".", "--force"],
        "will not replace",
    ),
    Case(
        "join-upload-header-only",
        lambda w: [
            "join",
            "--platform",
            w.pop,
            "--upload",
            w.file("h.csv", "email,phone\n"),
            "--out",
            "j",
        ],
        "no rows",
    ),
    Case(
        "join-upload-duplicate-header",
        lambda w: [
            "join",
            "--platform",
            w.pop,
            "--upload",
            w.file("d.csv", "email,email\nx,y\n"),
            "--out",
            "j",
        ],
        "appears twice",
    ),
    Case(
        "join-key-for-keyless-scheme",
        lambda w: [
            "join",
            "--platform",
            w.pop,
            "--upload",
            w.upload(),
            "--out",
            "j",
            "--key-file",
            w.file("k", "s3cret"),
        ],
        "takes no key",
        never=("s3cret",),
    ),
    Case(
        "join-param-salt",
        lambda w: [
            "join",
            "--platform",
            w.pop,
            "--upload",
            w.upload(),
            "--out",
            "j",
            "--scheme",
            "pbkdf2-sha256",
            "--param",
            "salt=TopSecretSalt",
        ],
        "--param salt",
        never=("TopSecretSalt",),
    ),
    # ---- a population folder whose files are not what `generate` wrote
    Case(
        "join-garbage-customers-beside-the-platform",
        lambda w: _join(w, w.broken_pop("customers.parquet", b"PAR1garbage")),
        "customers.parquet: is not a readable Parquet file",
    ),
    Case(
        "join-customers-without-cid",
        lambda w: [
            "join",
            "--platform",
            w.broken_pop("customers.parquet", pa.table({"x": list(range(40))})),
            "--upload",
            w.pop_upload(),
            "--out",
            "j",
        ],
        "customers.parquet: has no cid column",
    ),
    Case(
        "join-truth-without-uid",
        lambda w: _join(
            w, w.broken_pop("truth.parquet", pa.table({"cid": [0, 1]})), pop_upload=True
        ),
        "truth.parquet: has no uid column",
    ),
    Case(
        "join-platform-uid-as-text",
        lambda w: _join(
            w, w.broken_pop("platform.parquet", _retyped(w, "platform.parquet", "uid"))
        ),
        "platform.parquet, column 'uid': holds string values",
    ),
    Case(
        "join-platform-uid-with-a-null",
        lambda w: _join(w, w.broken_pop("platform.parquet", _nulled(w, "platform.parquet", "uid"))),
        "platform.parquet, column 'uid': 1 row has no uid",
    ),
    Case(
        "join-platform-uid-with-a-null-no-statistics",
        lambda w: _join(
            w,
            w.broken_pop(
                "platform.parquet",
                _nulled(w, "platform.parquet", "uid"),
                write_statistics=False,
                row_group_size=50,
            ),
        ),
        "platform.parquet, column 'uid': 1 row has no uid",
    ),
    Case(
        "join-platform-uid-twice",
        lambda w: _join(
            w, w.broken_pop("platform.parquet", _doubled(w, "platform.parquet", "uid"))
        ),
        "platform.parquet: column name 'uid' appears twice",
    ),
    Case(
        "join-platform-email-as-list",
        lambda w: _join(
            w, w.broken_pop("platform.parquet", _listed(w, "platform.parquet", "email"))
        ),
        "platform.parquet, column 'email': holds list values",
    ),
    Case(
        "join-truth-uid-as-text",
        lambda w: _join(
            w, w.broken_pop("truth.parquet", _retyped(w, "truth.parquet", "uid")), pop_upload=True
        ),
        "truth.parquet, column 'uid': holds string values",
    ),
    Case(
        "join-truth-without-rows",
        lambda w: _join(
            w,
            w.broken_pop("truth.parquet", pq.read_table(w.pop / "truth.parquet").slice(0, 0)),
            pop_upload=True,
        ),
        "truth.parquet: does not describe this upload",
    ),
    Case(
        "reidentify-population-garbage-platform",
        lambda w: [
            "reidentify",
            w.upload(),
            "--population",
            w.broken_pop("platform.parquet", b"PAR1garbage"),
        ],
        "platform.parquet: is not a readable Parquet file",
    ),
    # ---- attack / attack-table
    Case(
        "attack-table-with-gpu",
        lambda w: [
            "attack",
            w.upload(),
            "--table",
            w.file("t.parquet", b"PAR1"),
            "--device",
            "gpu",
        ],
        "--device gpu does not apply to --table",
    ),
    Case(
        "attack-out-is-upload",
        lambda w: ["attack", w.upload(), "--out", w.upload()],
        "is the upload",
    ),
    Case(
        "attack-folder-named-parquet",
        lambda w: ["attack", _folder(w, "x.parquet"), "--kind", "phone", "--region", "NL"],
        "x.parquet: is a folder, not a file",
    ),
    Case(
        "attack-folder-named-csv-with-column",
        lambda w: ["attack", _folder(w, "u.csv"), "--column", "PHONE", "--kind", "date"],
        "u.csv: is a folder, not a file",
    ),
    Case("attack-empty", lambda w: ["attack", w.file("e.txt", b"")], "is empty"),
    Case("attack-nul", lambda w: ["attack", w.file("n.txt", b"ab\x00cd\n")], "NUL byte"),
    Case(
        "attack-no-digests",
        lambda w: ["attack", w.file("p.txt", "hello\nworld\n")],
        "no recognisable hash digests",
    ),
    Case(
        "attack-hmac-key-file-is-the-secret",
        lambda w: ["attack", w.upload(), "--hmac-key-file", "Sup3rS3cretKey"],
        "not shown",
        never=("Sup3rS3cretKey",),
    ),
    Case(
        "attack-hmac-key-env-is-the-secret",
        lambda w: ["attack", w.upload(), "--hmac-key-env", "hunter2 hunter2"],
        "not a variable name",
        never=("hunter2",),
    ),
    Case(
        "attack-pepper-file-missing",
        lambda w: ["attack", w.upload(), "--pepper-file", w.root / "no" / "pepper.txt"],
        "does not exist",
    ),
    Case(
        "attack-table-exists",
        lambda w: ["attack-table", "--kind", "date", "--out", w.crm()],
        "already exists",
    ),
    Case(
        "attack-out-is-wordlist",
        lambda w: [
            "attack",
            w.upload(),
            "--kind",
            "wordlist",
            "--wordlist",
            w.file("words.txt", "a\n"),
            "--out",
            w.root / "words.txt",
        ],
        "is the --wordlist",
    ),
    Case(
        "attack-wordlist-missing",
        lambda w: ["attack", w.upload(), "--kind", "wordlist", "--wordlist", w.root / "no.txt"],
        "wordlist not found",
    ),
    Case(
        "attack-table-garbage",
        lambda w: ["attack", w.upload(), "--table", w.file("t.parquet", b"PAR1garbage")],
        "not a readable Parquet file",
    ),
    Case(
        "attack-garbage-parquet-upload",
        lambda w: ["attack", w.file("up.parquet", b"PAR1garbage")],
        "not a readable Parquet file",
    ),
    Case(
        "attack-unknown-column",
        lambda w: ["attack", w.upload(), "--column", "\x1b]0;owned\x07"],
        "no column",
    ),
    # ---- risk
    Case(
        "risk-duplicate-header",
        lambda w: ["risk", w.file("d.csv", "postcode,dob,postcode\n1234AB,1980-01-01,x\n")],
        "appears twice",
    ),
    Case(
        "risk-country-zz",
        lambda w: ["risk", w.pop / "customers.parquet", "--country", "ZZ"],
        "unknown --country",
    ),
    Case(
        "risk-header-only",
        lambda w: ["risk", w.file("h.csv", "postcode,dob,gender\n")],
        "no rows",
    ),
    Case(
        "risk-parquet-list",
        lambda w: [
            "risk",
            w.parquet(
                "l.parquet",
                pa.table({"postcode": pa.array([["x"]]), "dob": ["x"], "gender": ["f"]}),
            ),
        ],
        "holds list values",
    ),
    # ---- run
    Case(
        "run-key-file-keyless-scheme",
        lambda w: ["run", w.experiment('[[schemes]]\nname = "pbkdf2-sha256"\nkey_file = "k"\n')],
        "takes no key",
    ),
    Case(
        "run-population-path-empty",
        lambda w: ["run", w.experiment('[population]\npath = ""\n')],
        "[population].path: must not be empty",
    ),
    Case(
        "run-key-env-empty",
        lambda w: ["run", w.experiment('[[schemes]]\nname = "hmac-sha256"\nkey_env = ""\n')],
        "key_env: must not be empty",
    ),
    Case(
        "run-key-file-empty",
        lambda w: ["run", w.experiment('[[schemes]]\nname = "hmac-sha256"\nkey_file = ""\n')],
        "key_file: must not be empty",
    ),
    Case(
        "run-key-file-is-a-list-holding-the-secret",
        lambda w: [
            "run",
            w.experiment('[[schemes]]\nname = "hmac-sha256"\nkey_file = ["p@ss w0rd-hunter2"]\n'),
        ],
        "key_file: must be a string, got a list",
        never=("hunter2",),
    ),
    Case(
        "run-key-env-is-a-table-holding-the-secret",
        lambda w: [
            "run",
            w.experiment(
                '[[schemes]]\nname = "hmac-sha256"\nkey_env = {v = "p@ss w0rd-hunter2"}\n'
            ),
        ],
        "key_env: must be a string, got a table",
        never=("hunter2",),
    ),
    Case(
        "run-key-file-is-a-number",
        lambda w: [
            "run",
            w.experiment('[[schemes]]\nname = "hmac-sha256"\nkey_file = 31415926535\n'),
        ],
        "key_file: must be a string, got a number",
        never=("31415926535",),
    ),
    Case(
        "run-force-cwd",
        lambda w: [
            "run",
            w.experiment(f'[population]\npath = "{w.pop}"\n'),
            "--out",
            ".",
            "--force",
        ],
        "will not replace",
    ),
    Case(
        "run-out-is-experiment",
        lambda w: [
            "run",
            w.experiment(f'[population]\npath = "{w.pop}"\n'),
            "--out",
            w.root / "exp.toml",
        ],
        "input",
    ),
    Case(
        "run-out-is-population",
        lambda w: [
            "run",
            w.experiment(f'[population]\npath = "{w.pop}"\n'),
            "--out",
            w.pop,
            "--force",
        ],
        "input",
    ),
    Case(
        "run-population-manifest-not-json",
        lambda w: ["run", _reused(w, "manifest.json", b"not json {")],
        "manifest.json: is not a JSON manifest",
    ),
    Case(
        "run-population-manifest-without-counts",
        lambda w: ["run", _reused(w, "manifest.json", b'{"parameters": {"country": "NL"}}')],
        "manifest.json: has no counts.platform_users",
    ),
    Case(
        "run-population-manifest-unknown-country",
        lambda w: ["run", _reused(w, "manifest.json", _manifest(w, country="ZZ"))],
        "parameters.country 'ZZ' is not a country code",
    ),
    Case(
        "run-population-manifest-negative-seed",
        lambda w: ["run", _reused(w, "manifest.json", _manifest(w, seed=-5))],
        "seed -5 is not a whole number",
    ),
    Case(
        "run-population-manifest-customers-text",
        lambda w: ["run", _reused(w, "manifest.json", _counted(w, customers="abc"))],
        "counts.customers is 'abc', not a whole number",
    ),
    Case(
        "run-population-manifest-without-customers",
        lambda w: ["run", _reused(w, "manifest.json", _counted(w, customers=None))],
        "manifest.json: has no counts.customers",
    ),
    Case(
        "run-population-manifest-on-platform-disagrees",
        lambda w: [
            "run",
            _reused(w, "manifest.json", _counted(w, customers_on_platform=5000)),
        ],
        "counts.customers_on_platform is 5,000, but truth.parquet has",
    ),
    Case(
        "run-population-manifest-user-count-disagrees",
        lambda w: ["run", _reused(w, "manifest.json", _counted(w, platform_users=1))],
        "platform.parquet: has 300 rows, but manifest.json counts 1 platform users",
    ),
    Case(
        "run-population-customers-shorter-than-truth",
        lambda w: ["run", _reused(w, "customers.parquet", _sliced(w, "customers.parquet", 30))],
        "customers.parquet: has 30 rows, but manifest.json counts 40 customers",
    ),
    Case(
        "run-population-uid-twice",
        lambda w: ["run", _reused(w, "platform.parquet", _repeated(w, "platform.parquet", "uid"))],
        "column 'uid': id 0 appears on more than one row (1 row repeats an id)",
    ),
    Case(
        "join-truth-uid-unsigned",
        lambda w: _join(
            w,
            w.broken_pop("truth.parquet", _unsigned(w, "truth.parquet", "uid", 0)),
            pop_upload=True,
        ),
        "truth.parquet, column 'uid': holds uint64 values; matchsim reads signed integer ids",
    ),
    Case(
        "join-platform-uid-past-int64",
        lambda w: _join(
            w, w.broken_pop("platform.parquet", _unsigned(w, "platform.parquet", "uid", 2**63))
        ),
        "platform.parquet, column 'uid': holds uint64 values",
    ),
    Case(
        "join-platform-uid-repeated",
        lambda w: _join(
            w, w.broken_pop("platform.parquet", _repeated(w, "platform.parquet", "uid"))
        ),
        "platform.parquet, column 'uid': id 0 appears on more than one row",
    ),
    Case(
        "join-platform-uid-negative",
        lambda w: _join(
            w, w.broken_pop("platform.parquet", _negated(w, "platform.parquet", "uid"))
        ),
        "platform.parquet, column 'uid': id -300 is negative",
    ),
    Case(
        "join-customers-cid-null",
        lambda w: _join(
            w,
            w.broken_pop("customers.parquet", _nulled(w, "customers.parquet", "cid")),
            pop_upload=True,
        ),
        "customers.parquet, column 'cid': 1 row has no cid (every person has one; "
        "the first is row 1)",
    ),
    Case(
        "join-truth-cid-repeated",
        lambda w: _join(
            w, w.broken_pop("truth.parquet", _repeated(w, "truth.parquet", "cid")), pop_upload=True
        ),
        "truth.parquet, column 'cid': id 0 appears on more than one row",
    ),
    Case(
        "reidentify-population-uid-repeated",
        lambda w: [
            "reidentify",
            w.upload(),
            "--population",
            w.broken_pop("platform.parquet", _repeated(w, "platform.parquet", "uid")),
        ],
        "platform.parquet, column 'uid': id 0 appears on more than one row",
    ),
    Case(
        "run-population-manifest-seed-not-a-number",
        lambda w: ["run", _reused(w, "manifest.json", _manifest(w, seed="abc"))],
        "seed 'abc' is not a whole number",
    ),
    Case(
        "run-population-customers-cid-as-text",
        lambda w: ["run", _reused(w, "customers.parquet", _retyped(w, "customers.parquet", "cid"))],
        "customers.parquet, column 'cid': holds string values",
    ),
    Case("run-folder", lambda w: ["run", w.foreign()], "cannot be read"),
    Case("run-binary", lambda w: ["run", w.file("b.toml", bytes(range(256)))], "cannot be read"),
    Case(
        "run-name-is-markup",
        lambda w: ["run", w.experiment('name = "[red]x"\n[[schemes]]\nname = "nope"\n')],
        "unknown",
    ),
    Case("run-missing", lambda w: ["run", w.root / "none.toml"], "no such file"),
    # ---- report: results.json edited by hand
    Case("report-list", lambda w: ["report", w.results([])], "must hold a JSON object"),
    Case("report-empty-object", lambda w: ["report", w.results({})], "has no 'schema'"),
    Case("report-null", lambda w: ["report", w.results("null")], "must hold a JSON object"),
    Case("report-not-json", lambda w: ["report", w.results("{oops")], "cannot be read"),
    Case(
        "report-unknown-schema",
        lambda w: ["report", w.results(_good_results(schema="matchsim.results/99"))],
        "this matchsim reads 'matchsim.results/1'",
    ),
    Case(
        "report-schemes-wrong-type",
        lambda w: ["report", w.results(_good_results(schemes="all of them"))],
        "schemes must be a list",
    ),
    Case(
        "report-name-wrong-type",
        lambda w: ["report", w.results(_good_results(experiment={"name": 5}))],
        "experiment.name must be text",
    ),
    Case(
        "report-null-scheme",
        lambda w: ["report", w.results(_good_results(schemes=[None]))],
        "schemes[0] must be an object",
    ),
    Case(
        "report-match-rate-text",
        lambda w: [
            "report",
            w.results(
                _good_results(
                    schemes=[{"name": "sha256", "label": "x", "join": {"match_rate": "99 %"}}]
                )
            ),
        ],
        "schemes[0].join.match_rate must be a share from 0 to 1 or null, got text",
    ),
    Case(
        "report-population-huge-negative",
        lambda w: [
            "report",
            w.results(_good_results(population={"platform_users": -1e308, "customers": 2})),
        ],
        "population.platform_users must be a whole number or null, got -1e+308",
    ),
    Case(
        "report-huge-user-count",
        lambda w: [
            "report",
            w.results(_good_results(membership={"advertisers": [{"users": 10**400}]})),
        ],
        "membership.advertisers[0].users is out of range, got 1000000000",
    ),
    Case(
        "report-huge-number-in-a-free-section",
        lambda w: [
            "report",
            w.results(
                _good_results(risk=[{"qi": ["dob"], "records": 10, "keyspace": {"size": 10**400}}])
            ),
        ],
        "results.json: does not have the shape matchsim writes",
    ),
    Case(
        "report-manifest-huge-timing",
        lambda w: ["report", _with_manifest(w, {"started": "x", "timings": {"join": 10**400}})],
        "run/manifest.json: timings.join is out of range",
    ),
    # ---- report: the run's manifest.json edited by hand (blamed on it, not results.json)
    Case(
        "report-manifest-not-json",
        lambda w: ["report", _with_manifest(w, "{oops")],
        "run/manifest.json: cannot be read",
    ),
    Case(
        "report-manifest-list",
        lambda w: ["report", _with_manifest(w, [])],
        "run/manifest.json: must hold a JSON object, got a list",
    ),
    Case(
        "report-manifest-environment-number",
        lambda w: ["report", _with_manifest(w, {"environment": 5})],
        "run/manifest.json: environment must be an object, got 5",
    ),
    Case(
        "report-manifest-timing-text",
        lambda w: ["report", _with_manifest(w, {"started": "x", "timings": {"join": "slow"}})],
        "run/manifest.json: timings.join must be a number, got text",
    ),
    Case(
        "report-manifest-cpus-list",
        lambda w: ["report", _with_manifest(w, {"environment": {"cpus": [2]}})],
        "run/manifest.json: environment.cpus must be a whole number or null, got a list",
    ),
    Case(
        "report-match-rate-past-one",
        lambda w: [
            "report",
            w.results(
                _good_results(
                    schemes=[{"name": "sha256", "label": "x", "join": {"match_rate": 1e308}}]
                )
            ),
        ],
        "schemes[0].join.match_rate must be a share from 0 to 1 or null, got 1e+308",
    ),
    Case(
        "report-unique-share-negative",
        lambda w: [
            "report",
            w.results(_good_results(risk=[{"qi": ["dob"], "records": 10, "unique_share": -5}])),
        ],
        "risk[0].unique_share must be a share from 0 to 1 or null, got -5",
    ),
    Case("report-no-results", lambda w: ["report", w.foreign()], "no results.json here"),
    Case("report-on-a-file", lambda w: ["report", w.crm()], "cannot be read"),
    Case(
        "report-results-is-folder",
        lambda w: ["report", _results_folder(w)],
        "is a folder",
    ),
]


def _hard_link(w: W) -> Path:
    link = w.root / "also-crm.csv"
    os.link(w.crm(), link)
    return link


def _with_manifest(w: W, manifest: object) -> Path:
    """A run folder with good results.json and ``manifest`` (text as is) beside it."""
    run_dir = w.results(_good_results())
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    (run_dir / "manifest.json").write_text(text)
    return run_dir


def _folder(w: W, name: str) -> Path:
    (w.root / name).mkdir()
    return w.root / name


def _results_folder(w: W) -> Path:
    (w.root / "run" / "results.json").mkdir(parents=True)
    return w.root / "run"


def _dangling(w: W) -> Path:
    link = w.root / "link.csv"
    link.symlink_to(w.root / "gone.csv")
    return link


def _retyped(w: W, name: str, column: str) -> pa.Table:
    """The population's file ``name`` with ``column`` as text."""
    table = pq.read_table(w.pop / name)
    at = table.schema.get_field_index(column)
    return table.set_column(at, column, table.column(column).cast(pa.string()))


def _listed(w: W, name: str, column: str) -> pa.Table:
    """The population's file ``name`` with each value of ``column`` in a list of one."""
    table = pq.read_table(w.pop / name)
    values = table.column(column).combine_chunks()
    offsets = pa.array(range(len(values) + 1), pa.int32())
    at = table.schema.get_field_index(column)
    return table.set_column(at, column, pa.ListArray.from_arrays(offsets, values))


def _nulled(w: W, name: str, column: str) -> pa.Table:
    """The population's file ``name`` with the first value of ``column`` null."""
    table = pq.read_table(w.pop / name)
    values = table.column(column).combine_chunks()
    mask = pa.array([True] + [False] * (len(values) - 1))
    at = table.schema.get_field_index(column)
    return table.set_column(at, column, pa.array(values.to_pylist(), values.type, mask=mask))


def _doubled(w: W, name: str, column: str) -> pa.Table:
    table = pq.read_table(w.pop / name)
    return table.append_column(column, table.column(column))


def _manifest(w: W, **over: object) -> bytes:
    data = json.loads((w.pop / "manifest.json").read_text())
    if "country" in over:
        data["parameters"]["country"] = over.pop("country")
    data.update(over)
    return json.dumps(data).encode()


def _join(w: W, platform: Path, *, pop_upload: bool = False) -> list[object]:
    """``matchsim join`` of ``platform`` and an upload (the population's own customers,
    hashed, where ``pop_upload``: one the join evaluates) into ``j``."""
    upload = w.pop_upload() if pop_upload else w.upload()
    return ["join", "--platform", platform, "--upload", upload, "--out", "j"]


def _counted(w: W, **over: object) -> bytes:
    """The population's manifest.json with ``counts`` entries replaced."""
    data = json.loads((w.pop / "manifest.json").read_text())
    data["counts"].update(over)
    data["counts"] = {k: v for k, v in data["counts"].items() if v is not None}  # None: gone
    return json.dumps(data).encode()


def _sliced(w: W, name: str, rows: int) -> pa.Table:
    return pq.read_table(w.pop / name).slice(0, rows)


def _repeated(w: W, name: str, column: str) -> pa.Table:
    """The population's file ``name`` with its second row's ``column`` equal to the first's."""
    table = pq.read_table(w.pop / name)
    values = table.column(column).to_pylist()
    values[1] = values[0]
    at = table.schema.get_field_index(column)
    return table.set_column(at, column, pa.array(values, table.schema.field(column).type))


def _negated(w: W, name: str, column: str) -> pa.Table:
    """The population's file ``name`` with each id ``i`` of ``column`` as ``-i - 1``."""
    table = pq.read_table(w.pop / name)
    at = table.schema.get_field_index(column)
    return table.set_column(at, column, pc.subtract(pc.negate(table.column(column)), 1))


def _unsigned(w: W, name: str, column: str, plus: int) -> pa.Table:
    """The population's file ``name`` with ``column`` as uint64, each id raised by ``plus``."""
    table = pq.read_table(w.pop / name)
    values = [None if v is None else v + plus for v in table.column(column).to_pylist()]
    at = table.schema.get_field_index(column)
    return table.set_column(at, column, pa.array(values, pa.uint64()))


def _reused(w: W, name: str, data: bytes | pa.Table) -> Path:
    """An experiment that reuses a copy of the population with file ``name`` replaced."""
    pop = w.broken_pop(name, data)
    return w.experiment(
        f'[population]\npath = "{pop}"\n[[schemes]]\nname = "sha256"\n'
        '[[attacks]]\nkind = "reidentify"\ncoverage = 0.9\nguesses = 1000\n'
    )


def _readonly(w: W) -> Path:
    d = w.root / "ro"
    d.mkdir()
    d.chmod(0o555)
    return d


def _undeletable(w: W) -> Path:
    d = w.root / "oldpop"
    (d / "locked").mkdir(parents=True)
    (d / "manifest.json").write_text('{"matchsim_version": "0"}')
    (d / "locked" / "f").write_text("x")
    (d / "locked").chmod(0o555)
    return d


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_one_error_line_and_changes_nothing(
    case: Case,
    pop: Population,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if case.skip:
        pytest.skip(case.skip)
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("MATCHSIM_HOSTILE_UNSET", raising=False)
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    w = W(work, pop)
    args = case.args(w)
    before = snapshot(tmp_path, pop.out)
    try:
        code, out, err = run(*args, capsys=capsys)
    finally:
        for d in (work / "ro", work / "oldpop" / "locked"):
            if d.exists():
                d.chmod(0o755)
    assert_one_error(code, err, case.code, case.gist)
    for secret in case.never:
        assert secret not in err + out
    assert snapshot(tmp_path, pop.out) == before  # no input changed, no (partial) output


# --------------------------------------------------------------------------- accepted inputs

ACCEPTED = {
    "semicolon": CRM.replace(",", ";").encode(),
    "tab": CRM.replace(",", "\t").encode(),
    "pipe": CRM.replace(",", "|").encode(),
    "cr-only": CRM.replace("\n", "\r").encode(),
    "crlf": CRM.replace("\n", "\r\n").encode(),
    "utf8-bom": b"\xef\xbb\xbf" + CRM.encode(),
    "utf16-le-bom": CRM.encode("utf-16"),
    "utf16-be-bom": b"\xfe\xff" + CRM.encode("utf-16-be"),
    "cp1252": ("first_name," + CRM.replace("\n", "\nJos\u00e9 \u20ac,", 2)[:-1]).encode("cp1252"),
    "quoted-newline": (
        f'email,phone,note\na@b.nl,{PHONE},"two\nlines"\nc@d.nl,0687654321,x\n'
    ).encode(),
    "huge-line": (
        f"email,phone,note\na@b.nl,{PHONE},{'x' * (17 << 20)}\nc@d.nl,0687654321,y\n"
    ).encode(),
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_accepted_layouts_hash_the_same(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Delimiters, line endings, encodings: every layout gives the same upload."""
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "in.csv"
    src.write_bytes(ACCEPTED[name])
    before = snapshot(src)
    code, _out, err = run("hash", src, "--region", "NL", "--out", "up.csv", "--json", capsys=capsys)
    assert code == 0, err
    assert err == ""
    up = pacsv.read_csv(
        tmp_path / "up.csv",
        convert_options=pacsv.ConvertOptions(column_types={"PHONE": pa.string()}),
    )
    assert up.num_rows == 2
    assert up["PHONE"][0].as_py() == PHONE_SHA
    assert snapshot(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in.csv",
        "up.csv",
        "up.rejects.csv",
        "up.summary.json",
    ]


def test_symlinked_input_is_read_and_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    real = tmp_path / "real.csv"
    real.write_text(CRM)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    code, _, err = run("hash", link, "--region", "NL", "--out", real, capsys=capsys)
    assert code == 1 and "is the input" in err  # the link's target is the input
    assert real.read_text() == CRM
    code, _, err = run("hash", link, "--region", "NL", "--out", "up.csv", capsys=capsys)
    assert code == 0, err
    assert real.read_text() == CRM and link.is_symlink()


def test_force_replaces_only_what_matchsim_wrote_and_stale_partials_go(
    pop: Population,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "p"
    args = ["generate", "--platform-users", "50", "--customers", "5", "--out", out]
    assert run(*args, capsys=capsys)[0] == 0
    stale = tmp_path / ".p.partial-999999999"  # a process that died mid-run
    stale.mkdir()
    (stale / "platform.parquet").write_text("half")
    code, _, err = run(*args, "--force", capsys=capsys)
    assert code == 0, err
    assert not stale.exists()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["p"]


def test_report_escapes_every_string(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An experiment name, description, label or results.json value never runs as script
    in report.html and never becomes markup in report.md."""
    evil = "<script>alert(1)</script>"
    data = _good_results(
        experiment={"name": evil, "description": EVIL_DESCRIPTION, "seed": 1},
        advertisers=[{"name": evil, "label": evil, "profile": "meta", "share": 1.0}],
        schemes=[
            {
                "name": "sha256",
                "label": evil,
                "threat": evil,
                "learns": evil,
                "join": {"match_rate": 0.5},
                "phone_share": None,
                "email_share": None,
            }
        ],
        membership={
            "advertisers": [{"name": evil, "label": evil, "users": 3, "sensitive": True}],
            "sensitive_users": 3,
            "sensitive_labels": [evil],
        },
        risk=[{"qi": [evil], "records": 3, "k": 1, "unique_share": 0.5}],
        pixel={"text": evil, "summary": {evil: evil}, "details": {}},
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.json").write_text(json.dumps(data))
    code, _, err = run("report", run_dir, capsys=capsys)
    assert code == 0, err
    html = (run_dir / "report.html").read_text()
    md = (run_dir / "report.md").read_text()
    assert html.lower().count("<script") == 1  # the report's own self-check, nothing more
    assert "<img src=x" not in html and "onerror=alert(2)>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in md.lower() and "<img" not in md
    assert re.search(r"(?<!\\)\]\(javascript:", md) is None  # brackets escaped: no link
    assert "\\[x\\](javascript:" in md
    assert sorted(p.name for p in run_dir.iterdir()) == ["report.html", "report.md", "results.json"]


def test_experiment_name_never_leaves_runs(tmp_path: Path) -> None:
    from matchsim.experiment import default_out, parse_experiment

    for name in ("../../x", "/etc/passwd", "..", "", "a/../../b", "C:\\Windows", "\x1b[2J"):
        exp = parse_experiment({"version": 1, "name": name})
        out = default_out(exp, tmp_path / "runs")
        assert out.parent == tmp_path / "runs"
        assert "/" not in out.name and "\\" not in out.name and not out.name.startswith(".")


def test_same_key_file_same_key_bytes_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14: ``attack --hmac-key-file`` once stripped all whitespace, ``hash``/``run``
    one newline; the same key file gave different keys. Now one loader reads it."""
    import hmac as hmac_mod

    import matchsim.attack.request as attack_request
    from matchsim.experiment import SchemeSpec
    from matchsim.experiment.schemes import secret_for as _secret

    key_file = tmp_path / "key.txt"
    upload = tmp_path / "up.txt"
    for content, key in (
        (b" k3y \n", b" k3y "),
        (b"k3y\r\n", b"k3y"),
        (b"k3y\t\n\n", b"k3y\t\n"),
        (b"k3y", b"k3y"),
    ):
        key_file.write_bytes(content)
        # hash path (CLI): the digest is HMAC under exactly these bytes
        code, out, err = run(
            "hash",
            "1980-02-03",
            "--field",
            "dob",
            "--scheme",
            "hmac-sha256",
            "--key-file",
            key_file,
            "--json",
            capsys=capsys,
        )
        assert code == 0, err
        digest = json.loads(out)["hash"]
        assert digest == hmac_mod.new(key, b"19800203", hashlib.sha256).hexdigest()
        # experiment path (run)
        spec = SchemeSpec(name="hmac-sha256", key_file=str(key_file))
        run_secret = _secret(spec, True)
        assert run_secret is not None and run_secret.value == key
        # attack path (CLI): capture the key the attack is given
        upload.write_text(digest + "\n")
        seen: list[bytes | None] = []

        class Stop(BaseException):
            pass

        def spy(
            algorithm: str,
            pepper: bytes | None = None,
            hmac_key: bytes | None = None,
            seen: list[bytes | None] = seen,
        ) -> None:
            seen.append(hmac_key)
            raise Stop

        monkeypatch.setattr(attack_request, "Knowledge", spy)  # what AttackRequest builds
        with pytest.raises(Stop):
            main(["attack", str(upload), "--kind", "date", "--hmac-key-file", str(key_file)])
        monkeypatch.undo()
        capsys.readouterr()
        assert seen == [key]


def test_attack_reads_the_parquet_upload_hash_writes(tmp_path: Path) -> None:
    from matchsim.attack.targets import load_targets
    from matchsim.upload.write import hash_file

    src = tmp_path / "crm.csv"
    src.write_text(CRM)
    hash_file(src, profile="meta", region="NL", out=tmp_path / "up.parquet")
    targets = load_targets(tmp_path / "up.parquet", "PHONE")
    assert targets.algorithm == "sha256" and targets.n_rows == 2 and targets.n_distinct == 2


def _can_mount_tmpfs(target: Path) -> bool:
    if not ROOT or shutil.which("mount") is None:
        return False
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def test_full_disk_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _can_mount_tmpfs(disk):
        pytest.skip("cannot mount a 64 KiB tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        src = tmp_path / "crm.csv"
        rows = "".join(f"user{i}@example.nl,06{i:08d}\n" for i in range(20_000))
        src.write_text("email,phone\n" + rows)
        before = snapshot(src)
        code, _, err = run("hash", src, "--region", "NL", "--out", disk / "up.csv", capsys=capsys)
        assert code == 1 and "Traceback" not in err
        assert len(err.splitlines()) == 1 and err.startswith("Error: ")
        assert "No space left" in err or "space" in err.lower()
        assert list(disk.iterdir()) == []
        assert snapshot(src) == before
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_platform_without_an_email_column_is_joined_and_evaluated(
    pop: Population, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A platform without its e-mail column is joined on the keys it has and evaluated;
    who holds which identifier, read from the platform file itself (no normalised layer),
    says no one holds an e-mail there (reading that column crashed)."""
    import numpy as np

    from matchsim.join.evaluate import _platform_holds

    w = W(tmp_path, pop)
    table = pq.read_table(pop.out / "platform.parquet")
    bad = w.broken_pop("platform.parquet", table.drop(["email"]))
    uids = np.sort(table.column("uid").to_numpy()[:50])
    held = _platform_holds(bad / "platform.parquet", uids)
    assert not held["email"].any()
    assert (
        held["phone"].tolist()
        == table.column("phone")
        .is_valid()
        .to_numpy(zero_copy_only=False)[:50][np.argsort(table.column("uid").to_numpy()[:50])]
        .tolist()
    )
    args = ["join", "--platform", bad, "--upload", w.pop_upload(), "--out", tmp_path / "j"]
    code, out, err = run(*args, "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["evaluation"]["customers"] > 0
