"""``--emit-hcmask``: a mask keyspace as hashcat mask-file lines, exactly.

The lines are checked three ways: known answers (NL mobile), an independent expansion
of the written lines compared with the keyspace's own decoding (splitting and escaping),
and, when hashcat is installed, hashcat run on a tiny keyspace must recover the same set
as matchsim.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.attack import parse_digests, phone_keyspace, reverse
from matchsim.attack.hcmask import MAX_CHARSETS, hcmask_lines, split_for_hashcat, write_hcmask
from matchsim.attack.keyspace import Mask, MaskKeyspace
from matchsim.errors import ConfigError, OutputError


def test_nl_mobile_known_answer() -> None:
    assert hcmask_lines(phone_keyspace("NL", lengths=(9,))) == ["123458,316?1?d?d?d?d?d?d?d"]
    assert hcmask_lines(phone_keyspace("NL")) == [
        "123458,316?1?d?d?d?d?d?d?d",
        "31970?d?d?d?d?d?d?d?d",
    ]
    assert hcmask_lines(phone_keyspace("NL", lengths=(9,), style="e164")) == [
        "123458,+316?1?d?d?d?d?d?d?d"
    ]


def _expand(line: str) -> list[bytes]:
    """Every candidate of one hcmask line, parsed independently of the writer."""
    fields: list[str] = []
    cur = ""
    i = 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line) and line[i + 1] == ",":
            cur += ","
            i += 2
        elif line[i] == ",":
            fields.append(cur)
            cur = ""
            i += 1
        else:
            cur += line[i]
            i += 1
    fields.append(cur)
    *charsets, mask = fields
    assert len(charsets) <= MAX_CHARSETS

    def unq(text: str) -> list[str]:
        out, j = [], 0
        while j < len(text):
            if text[j] == "?":
                out.append("?" + text[j + 1])
                j += 2
            else:
                out.append(text[j])
                j += 1
        return out

    sets = ["".join("?" if t == "??" else t for t in unq(c)) for c in charsets]
    positions = []
    for tok in unq(mask):
        if tok == "?d":
            positions.append("0123456789")
        elif tok == "??":
            positions.append("?")
        elif tok.startswith("?"):
            positions.append(sets[int(tok[1]) - 1])
        else:
            positions.append(tok)
    return ["".join(c).encode() for c in itertools.product(*positions)]


def _all(ks: MaskKeyspace) -> list[bytes]:
    out: list[bytes] = []
    for m in ks.masks:
        out += [bytes(r) for r in m.decode(np.arange(m.size))]
    return out


def test_split_to_four_charsets_is_exact() -> None:
    # Six distinct custom sets (one with a comma and a question mark) and a digit run.
    mask = Mask((b"ab", b"cd", b"0123456789", b"ef", b",?", b"gh", b"xyz", b"7"))
    ks = MaskKeyspace("test", (mask,))
    lines = hcmask_lines(ks)
    assert len(lines) == 4  # two 2-byte positions fixed: 6 sets -> 4
    got = [c for line in lines for c in _expand(line)]
    assert sorted(got) == sorted(_all(ks))
    assert len(got) == len(set(got)) == mask.size
    assert sum(p.size for p in split_for_hashcat(mask)) == mask.size


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"0123456789", b"12", b"abc", b"x", b"?", b",", b",.", b"AZ", b"9"]),
        min_size=1,
        max_size=7,
    )
)
def test_lines_enumerate_the_keyspace_exactly(positions: list[bytes]) -> None:
    mask = Mask(tuple(positions))
    if mask.size > 20_000:
        return
    ks = MaskKeyspace("prop", (mask,))
    got = [c for line in hcmask_lines(ks) for c in _expand(line)]
    assert sorted(got) == sorted(_all(ks))
    assert len(got) == len(set(got))


def test_unwritable_bytes_are_refused() -> None:
    with pytest.raises(ConfigError, match="0x5c"):
        hcmask_lines(MaskKeyspace("bs", (Mask((b"\\", b"12")),)))
    with pytest.raises(ConfigError, match="0xe9"):
        hcmask_lines(MaskKeyspace("latin", (Mask((b"\xe9",)),)))


def test_write_is_whole_and_never_over_a_file(tmp_path: Path) -> None:
    ks = phone_keyspace("NL")
    path = tmp_path / "nl.hcmask"
    assert write_hcmask(ks, path) == 2
    assert path.read_text() == "123458,316?1?d?d?d?d?d?d?d\n31970?d?d?d?d?d?d?d?d\n"
    with pytest.raises(OutputError, match="already exists"):
        write_hcmask(ks, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nl.hcmask"]  # no partial left


def test_cli_emit_hcmask(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    upload = tmp_path / "up.txt"
    upload.write_text(hashlib.sha256(b"31612345678").hexdigest() + "\n")
    out = tmp_path / "nl.hcmask"
    code, stdout, _ = run_cli("attack", upload, "--lengths", "9", "--emit-hcmask", out)
    assert code == 0
    assert out.read_text() == "123458,316?1?d?d?d?d?d?d?d\n"
    assert f"hashcat -m 1400 -a 3 {upload} {out}" in stdout
    code, _, err = run_cli("attack", upload, "--emit-hcmask", out)
    assert code == 1
    assert err.startswith("Error: ") and "already exists" in err and len(err.splitlines()) == 1
    code, _, err = run_cli("attack", upload, "--kind", "email", "--emit-hcmask", tmp_path / "e")
    assert code == 1
    assert "mask keyspace" in err
    assert not (tmp_path / "e").exists()


@pytest.mark.skipif(shutil.which("hashcat") is None, reason="hashcat is not installed")
def test_hashcat_recovers_the_same_set_as_matchsim(tmp_path: Path) -> None:
    # Five custom sets force a split; 2 * 3 * 2 * 2 * 2 * 10 = 480 candidates.
    mask = Mask((b"+", b"12", b"abc", b"7", b"de", b"fg", b"hi", b"0123456789"))
    ks = MaskKeyspace("tiny", (mask, Mask((b"+", b"9", b"0123456789", b"0123456789"))))
    rng = np.random.default_rng(3)
    every = _all(ks)
    secret = [every[i] for i in rng.choice(len(every), 25, replace=False)]
    outside = [b"+1a7dfh", b"+0000", b"nope"]
    digests = [hashlib.sha256(x).hexdigest() for x in secret + outside]
    hashes = tmp_path / "hashes.txt"
    hashes.write_text("".join(d + "\n" for d in digests))
    masks = tmp_path / "tiny.hcmask"
    write_hcmask(ks, masks)
    assert len(masks.read_text().splitlines()) > len(ks.masks)  # the split happened
    found = tmp_path / "found.txt"
    cmd = ["hashcat", "-m", "1400", "-a", "3", "--potfile-disable", "--quiet",
           "--session", "matchsim-test", "-o", str(found), "--outfile-format=2",
           str(hashes), str(masks)]  # fmt: skip
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: exhausted, not all found
    by_hashcat = set(found.read_bytes().split()) if found.exists() else set()
    result = reverse(parse_digests(pa.array(digests)), ks, stop_when_done=False)
    by_matchsim = {v.encode() for v in pc.drop_null(result.plaintext).to_pylist()}
    assert by_matchsim == set(secret)
    assert by_hashcat == by_matchsim
