"""The kernels compiled ahead of time (:mod:`matchsim.kernels.aot`) against the JIT kernels
they are built from and against hashlib; the fingerprint, the fallback, the CLI verb.

The library of three algorithms (SHA-256: 32-bit words, HMAC; SHA-512: 64-bit words;
MD5: the reversed scan against a few targets) is built once for this module into its
own folder: about 45 s of CPU on the project's 2-core machine, the slowest step of
this file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import matchsim
from matchsim.attack import Knowledge, parse_digests
from matchsim.attack.engine import _Filter, _mask_layout, _Plan
from matchsim.attack.keyspace import Mask
from matchsim.kernels import aot
from matchsim.kernels.attack import mask as K

BUILT = ("sha256", "sha512", "md5")
TREE = str(Path(matchsim.__file__).parents[1])  # this tree's matchsim, for subprocesses
DIGITS = b"0123456789"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The modules of ``BUILT``, built into this module's folder and in use for
    its tests (the session's empty folder is put back afterwards)."""
    from matchsim.kernels.aot.build import build

    before = os.environ.get(aot.ENV_DIR)
    os.environ[aot.ENV_DIR] = str(tmp_path_factory.mktemp("aot-built"))
    aot.forget()
    try:
        build(BUILT)
        yield aot.library_dir()
    finally:
        if before is None:
            os.environ.pop(aot.ENV_DIR, None)
        else:
            os.environ[aot.ENV_DIR] = before
        aot.forget()


def _scan_both(algo: str, plan: _Plan, mask: Mask, digests: list[bytes], start: int, stop: int):  # type: ignore[no-untyped-def]
    """The scan's raw output (hits, counts) from the compiled and the JIT kernel."""
    targets = parse_digests(pa.array([d.hex() for d in digests]))
    filt = _Filter.make(targets, plan.algo)
    lay = _mask_layout(mask, plan)
    out = []
    for kernel in (aot.scanner(plan.algo), K.SCANNERS[plan.algo]):
        hits = np.zeros((8, 4096), dtype=np.int64)
        counts = np.zeros(8, dtype=np.int64)
        kernel(lay["template"], lay["var_offset"], lay["var_choices"], lay["var_counts"],
               lay["n_inner"], plan.init, plan.outer, np.int64(start), np.int64(stop), 8,
               filt.bm1, filt.bm2, np.uint64((1 << filt.bits) - 1), hits, counts)  # fmt: skip
        out.append((hits, counts))
    return out


@pytest.mark.parametrize(
    ("algo", "secret"),
    [("sha256", None), ("sha256", "hmac"), ("sha256", "pepper"), ("sha512", None)],
)
def test_scan_survivors_equal_the_jit_kernels(library: Path, algo: str, secret: str | None) -> None:
    key = b"the advertiser's key"
    pepper = b"a pepper long enough to push the message into a second block " * 2
    knowledge = Knowledge(
        algo,
        hmac_key=key if secret == "hmac" else None,
        pepper=pepper if secret == "pepper" else None,
    )
    plan = _Plan.make(knowledge)
    mask = Mask((b"3", b"1", b"6", *(DIGITS,) * 6))
    planted = [f"316{i:06d}".encode() for i in range(7, 10**6, 9973)]

    def digest(m: bytes) -> bytes:
        if secret == "hmac":
            return hmac.new(key, m, "sha256").digest()
        return hashlib.new(algo, m + (pepper if secret == "pepper" else b"")).digest()

    # A range that starts and stops inside the inner space, over 8 work items.
    (got, got_n), (want, want_n) = _scan_both(algo, plan, mask, [digest(p) for p in planted],
                                              1234, 10**6 - 77)  # fmt: skip
    assert aot.used().keys() >= {algo}
    assert np.array_equal(got_n, want_n) and np.array_equal(got, want)
    found = {int(i) for t in range(8) for i in got[t, : got_n[t]]}
    expected = {int(p) for p in planted if 1234 <= int(p[3:]) < 10**6 - 77}
    assert {int(b"316%06d" % i) for i in found} >= expected


def test_reversed_md5_scan_survivors_equal_the_jit_kernels(library: Path) -> None:
    """The MD5 scan against a few targets (:mod:`matchsim.kernels.attack.md5_reverse`),
    compiled and JIT, over a range that starts and stops inside the inner space and 8
    work items: the same raw survivors, the planted among them."""
    from matchsim.attack.engine import _reversal_table

    plan = _Plan.make(Knowledge("md5"))
    mask = Mask((b"3", b"1", b"6", b"123458", b"0", *(DIGITS,) * 6))  # 11 bytes
    planted = [4 * 10**6 + 17, 123_456, 5_999_000]
    rows = mask.decode(np.array(planted))
    targets = parse_digests(pa.array([hashlib.md5(bytes(r)).hexdigest() for r in rows]))
    lay = _mask_layout(mask, plan)
    reversal = _reversal_table(lay, plan, targets.digests)
    assert reversal is not None
    word2, table, n_inner = reversal
    out = []
    for kernel in (aot.md5_reversed_scanner(), aot._jit_md5_reversed):
        hits = np.zeros((8, 4096), dtype=np.int64)
        counts = np.zeros(8, dtype=np.int64)
        kernel(lay["template"], lay["var_offset"], lay["var_choices"], lay["var_counts"],
               n_inner, plan.init, np.int64(1234), np.int64(mask.size - 77), 8, word2, table,
               hits, counts)  # fmt: skip
        out.append((hits, counts))
    assert "md5" in aot.used()
    (got, got_n), (want, want_n) = out
    assert np.array_equal(got_n, want_n) and np.array_equal(got, want)
    assert sorted(int(i) for t in range(8) for i in got[t, : got_n[t]]) == sorted(planted)


@pytest.mark.parametrize("algo", BUILT)
def test_message_hasher_equals_hashlib_and_the_jit(library: Path, algo: str) -> None:
    rng = np.random.default_rng(5)
    n = 5000  # past the size from which the rows are split over threads
    lengths = rng.integers(0, 260, n).astype(np.int64)
    starts = np.zeros(n, dtype=np.int64)
    starts[1:] = np.cumsum(lengths)[:-1]
    data = rng.integers(0, 256, int(lengths.sum()) + 1, dtype=np.uint8)
    ident = K.ALGORITHMS[algo]
    outs = []
    for kernel in (aot.row_hasher(ident), K.ROW_HASHERS[ident]):
        words = np.zeros((n, 8), dtype=K.IVS[ident].dtype)
        kernel(data, starts, lengths, 0, K.IVS[ident], np.zeros(0, np.uint32), words)
        outs.append(words)
    assert np.array_equal(outs[0], outs[1])
    plan = _Plan.make(Knowledge(algo))
    got = plan.digest_messages(data, starts, lengths)
    for i in range(0, n, 97):
        msg = data[starts[i] : starts[i] + lengths[i]].tobytes()
        assert bytes(got[i]) == hashlib.new(algo, msg).digest()


def test_hmac_pad_states_equal_the_jit(library: Path) -> None:
    block = bytes(range(64))
    got = aot.sha256_compress(K.SHA256_IV, block)
    assert np.array_equal(got, K.sha256_compress(K.SHA256_IV, block))
    plan = _Plan.make(Knowledge("sha256", hmac_key=b"k" * 80))
    rows = np.frombuffer(b"31612345678", np.uint8).reshape(1, -1)
    assert (
        bytes(plan.digest_rows(rows)[0]) == hmac.new(b"k" * 80, b"31612345678", "sha256").digest()
    )


def test_lookup_and_hex_decoder_equal_the_reference(library: Path) -> None:
    rng = np.random.default_rng(9)
    raw = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    text = "".join(bytes(r).hex() + "\n" for r in raw).encode()
    chars = np.frombuffer(text, np.uint8)
    decode = aot.hex_decoder(K.ALGO_SHA256)
    assert decode is not None
    assert np.array_equal(decode(chars, 3000, 64), raw)
    upper = np.frombuffer(text.upper(), np.uint8)
    assert decode(upper, 3000, 64) is None  # the caller's bytes.fromhex path decides
    targets = parse_digests(pa.array([bytes(r).hex() for r in raw]))
    probes = np.concatenate([targets.digests[::7], raw[:50] ^ np.uint8(1)])
    got = targets.lookup(probes)
    from matchsim.kernels.attack.lookup import lookup as jit_lookup

    want = np.empty(probes.shape[0], dtype=np.int64)
    shift, starts = targets._buckets
    jit_lookup(targets.digests, targets._keys, starts, shift, probes, want)
    assert np.array_equal(got, want)
    assert np.array_equal(got[: targets.digests[::7].shape[0]], np.arange(0, targets.n_distinct, 7))
    assert np.all(got[targets.digests[::7].shape[0] :] == -1)


def _csv_bytes(
    rows: list[list[str]], line_end: str = "\n", quote: bool = True, final: bool = True
) -> np.ndarray:
    q = '"' if quote else ""
    text = line_end.join(",".join(f"{q}{c}{q}" if c else "" for c in r) for r in rows)
    return np.frombuffer((text + (line_end if final else "")).encode(), dtype=np.uint8)


_CSV_CASES: dict[str, tuple[dict[str, object], int, list[str | None]]] = {
    # (how the file is written, a row, its new cells: None keeps a cell, fewer cut the row)
    "plain": ({}, 0, [None, None, None]),
    "crlf, unquoted": ({"line_end": "\r\n", "quote": False}, 0, [None, None, None]),
    "no line end after the last row": ({"final": False}, 0, [None, None, None]),
    "a cell that is not hex": ({}, 800, [None, "not hex", None]),
    "upper-case hex": ({}, 1200, [None, "AB" * 32, None]),
    "a blank line": ({}, 1600, []),  # the scan gives up (a negative code)
    "a row too short": ({}, 2000, ["x"]),
}


@pytest.mark.parametrize("case", list(_CSV_CASES))
def test_csv_scan_equals_the_jit(library: Path, case: str) -> None:
    """The upload scan's piece functions compiled into a module, the pieces on threads,
    give what :mod:`matchsim.kernels.csvhex` gives: rows per piece, each piece's rows
    read or give-up code, every decoded digest, cell state and text cell's place."""
    from matchsim.kernels import csvhex
    from matchsim.kernels.hextable import hex_pairs

    rng = np.random.default_rng(4)
    digests = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    rows = [["cid", "PHONE", "CT"]] + [
        [str(i), bytes(d).hex() if i % 7 else "", f"city {i}"] for i, d in enumerate(digests)
    ]
    options, at, cells = _CSV_CASES[case]
    rows[at] = [old if new is None else new for old, new in zip(rows[at], cells, strict=False)]
    buf = _csv_bytes(rows, **options)
    buf.flags.writeable = False  # as the file's memory map is
    kinds = np.array([csvhex.SKIP, csvhex.HEX, csvhex.TEXT], dtype=np.int64)
    line_ends = np.flatnonzero(buf == 10) + 1  # five pieces, each of whole lines
    bounds = np.array([line_ends[0], *line_ends[[600, 1200, 1800, 2400]], len(buf)], np.int64)
    compiled = aot.csv_scan(K.ALGO_SHA256, buf, kinds)
    assert compiled is not None
    capacity = csvhex.count_rows(buf, bounds)
    assert np.array_equal(compiled.count_rows(buf, bounds), capacity)
    n = int(capacity.sum())
    row0 = np.concatenate([[0], np.cumsum(capacity)[:-1]]).astype(np.int64)
    slots, pairs = np.array([-1, 0, 1], dtype=np.int64), hex_pairs("hex")
    outs = []
    for kernel in (compiled, csvhex):
        arrays = (np.zeros((1, n, 32), np.uint8), np.zeros((2, n), np.uint8),
                  np.zeros((2, n), np.int64), np.zeros((2, n), np.int64))  # fmt: skip
        got = kernel.scan(buf, bounds, row0, ord(","), kinds, slots, 32, pairs, *arrays)
        outs.append((got, *arrays))
    for a, b in zip(*outs, strict=True):
        assert np.array_equal(a, b)
    got, found, status = outs[0][0], outs[0][1], outs[0][2]
    if (got == capacity).all():
        decoded = status[0] == csvhex.DECODED
        assert np.array_equal(found[0][decoded], digests[np.flatnonzero(decoded)])
    else:
        assert case in ("a blank line", "a row too short")


@pytest.mark.parametrize("algo", BUILT)
def test_bitmap_equals_numpys(library: Path, algo: str) -> None:
    ident = K.ALGORITHMS[algo]
    words = np.random.default_rng(3).integers(0, 2**63, 20_000).astype(aot.word_dtype(ident))
    for bits in (16, 21):
        assert np.array_equal(aot.bitmap(ident, words, bits), K.make_bitmap(words, bits))
    from matchsim.kernels.attack.bitmap import set_bits

    jit = np.zeros(1 << 15, dtype=np.uint64)
    set_bits(words, np.uint64((1 << 21) - 1), jit)
    assert np.array_equal(jit, K.make_bitmap(words, 21))


@pytest.mark.parametrize(
    ("algo", "numbers", "mask"),
    [
        ("sha256", [f"316{i:06d}" for i in range(0, 10**6, 4999)],
         "b'3', b'1', b'6', *(b'0123456789',) * 6"),
        # Three targets of an 11-byte number: the reversed MD5 scan (md5_reverse).
        ("md5", [f"316100{i:05d}" for i in range(0, 10**5, 40_000)],
         "b'3', b'1', b'6', b'1', b'0', b'0', *(b'0123456789',) * 5"),
    ],
)  # fmt: skip
def test_a_fresh_attack_runs_without_numba(library: Path, tmp_path: Path, algo: str,
                                           numbers: list[str], mask: str) -> None:  # fmt: skip
    """The fixed-cost path of a fresh process (read the upload, plan, bitmaps or the
    reversal table, scan, verify) loads the compiled modules and never imports numba;
    the result is right."""
    upload = tmp_path / "hashes.txt"
    upload.write_text("".join(hashlib.new(algo, x.encode()).hexdigest() + "\n" for x in numbers))
    code = (
        "import sys; from matchsim.attack import load_targets, reverse; "
        "from matchsim.attack.keyspace import Mask, MaskKeyspace; "
        f"t = load_targets({str(upload)!r}); "
        f"m = Mask(({mask})); "
        "r = reverse(t, MaskKeyspace('x', (m,))); "
        "print(r.recovered_distinct, sorted(r.plaintext.to_pylist())[:2], 'numba' in sys.modules)"
    )
    env = {**os.environ, aot.ENV_DIR: os.environ[aot.ENV_DIR], "PYTHONPATH": TREE}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env)  # fmt: skip
    assert done.stdout.split("\n")[0] == f"{len(numbers)} {sorted(numbers)[:2]} False"


def test_a_fresh_attack_on_an_upload_column_runs_without_numba(library: Path,
                                                               tmp_path: Path) -> None:  # fmt: skip
    """``matchsim attack UPLOAD --column PHONE``'s path in a fresh process: the column
    read by the CSV scan compiled into the SHA-256 module, planned, scanned and verified
    without loading numba; the planted numbers recovered, the gaps counted as empty."""
    numbers = [f"316{i:06d}" for i in range(0, 10**6, 9973)]
    lines = ['"EMAIL","PHONE","CT"']
    for i, x in enumerate(numbers):
        phone = "" if i % 5 == 0 else hashlib.sha256(x.encode()).hexdigest()
        lines.append(f'"{hashlib.sha256(b"e%d" % i).hexdigest()}","{phone}","city"')
    upload = tmp_path / "upload.csv"
    upload.write_text("\n".join(lines) + "\n")
    code = (
        "import sys; from matchsim.attack import load_targets, reverse; "
        "from matchsim.attack.keyspace import Mask, MaskKeyspace; "
        f"t = load_targets({str(upload)!r}, column='PHONE'); "
        "m = Mask((b'3', b'1', b'6', *(b'0123456789',) * 6)); "
        "r = reverse(t, MaskKeyspace('x', (m,))); "
        "print(r.recovered_distinct, t.rejected, 'numba' in sys.modules)"
    )
    env = {**os.environ, aot.ENV_DIR: os.environ[aot.ENV_DIR], "PYTHONPATH": TREE}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env)  # fmt: skip
    kept = len(numbers) - len(range(0, len(numbers), 5))
    empty = len(range(0, len(numbers), 5))
    assert done.stdout.split("\n")[0] == f"{kept} {{'empty': {empty}}} False"


def test_off_switch_and_a_foreign_library_fall_back_to_the_jit(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(aot.ENV_SWITCH, "0")
    aot.forget()
    assert aot.scanner(K.ALGO_SHA256) is K.SCANNERS[K.ALGO_SHA256]
    assert aot.hex_decoder(K.ALGO_SHA256) is None
    monkeypatch.delenv(aot.ENV_SWITCH)
    # Not built here (SHA-1), or a big job: the JIT scan.
    assert aot.scanner(K.ALGO_SHA1) is K.SCANNERS[K.ALGO_SHA1]
    assert aot.md5_reversed_scanner(aot.JIT_SCAN_FROM) is aot._jit_md5_reversed
    assert aot.md5_reversed_scanner() is not aot._jit_md5_reversed
    assert aot.scanner(K.ALGO_SHA256, aot.JIT_SCAN_FROM) is K.SCANNERS[K.ALGO_SHA256]
    assert aot.scanner(K.ALGO_SHA256) is not K.SCANNERS[K.ALGO_SHA256]
    # A file that is no extension module (a broken copy): not loaded, the JIT instead.
    other = library.parent / "other"
    other.mkdir()
    aot.module_path(other, "sha256").write_bytes(b"not a shared object")
    assert aot._load_file(aot.module_path(other, "sha256"), aot.module_name("sha256")) is None
    aot.forget()


def test_arguments_the_signature_does_not_take_go_to_the_jit(library: Path) -> None:
    """A strided array (pycc's wrapper checks only the item size, and would read it as
    contiguous) is passed to the JIT kernel, with the same answer."""
    targets = parse_digests(pa.array([hashlib.sha256(b"%d" % i).hexdigest() for i in range(99)]))
    probes = np.repeat(targets.digests, 2, axis=1)[:, ::2]  # the digests, strided
    assert not probes.flags.c_contiguous
    from matchsim.kernels.attack.lookup import lookup as jit_lookup

    lookup = aot.digest_lookup(K.ALGO_SHA256)
    assert lookup is not jit_lookup  # the compiled one's wrapper, which hands this call on
    out = np.empty(99, dtype=np.int64)
    shift, starts = targets._buckets
    lookup(targets.digests, targets._keys, starts, shift, probes, out)
    assert np.array_equal(out, np.arange(99))


def test_fingerprint_follows_the_sources_and_the_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "kernels"
    shutil.copytree(aot.KERNELS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert aot.fingerprint_of(copy) == aot.fingerprint() == _fresh_fingerprint()
    lanes = copy / "attack" / "_lanes.py"
    lanes.write_text(lanes.read_text() + "\n# changed\n")
    assert aot.fingerprint_of(copy) != aot.fingerprint()
    aot.fingerprint.cache_clear()
    monkeypatch.setattr(aot, "cpu_identity", lambda: "another CPU")
    try:
        assert aot.fingerprint() != _fresh_fingerprint()
    finally:
        aot.fingerprint.cache_clear()


def _fresh_fingerprint() -> str:
    """The fingerprint as a new process computes it."""
    code = "from matchsim.kernels import aot; print(aot.fingerprint())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": TREE})  # fmt: skip
    return done.stdout.strip()


def test_an_unwritable_folder_is_one_error(tmp_path: Path) -> None:
    from matchsim.errors import ConfigError
    from matchsim.kernels.aot.build import compile_module

    blocker = tmp_path / "a file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write the compiled kernels to"):
        compile_module("md5", blocker / "aot")


def test_cli_build_kernels(library: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("build-kernels", "--algorithm", "sha3")
    assert (code, err.strip()) == (
        1,
        "Error: unknown hash algorithm 'sha3'; known: md5, sha1, sha256, sha512",
    )
    before = aot.module_path(library, "sha256").stat().st_mtime_ns
    code, out, err = run_cli("build-kernels", "--algorithm", "sha256", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["modules"] == {"sha256": str(aot.module_path(library, "sha256"))}
    assert aot.module_path(library, "sha256").stat().st_mtime_ns == before  # already built


def test_the_compiled_path_shares_the_kernels_lane_counts() -> None:
    """The numba-free side (pad states, hasher work items) lays lanes out as the kernels
    do: one table of lane counts per algorithm, :mod:`~matchsim.kernels.attack.params`'
    (a copy of the count, 16 against the kernels' 48, once made every HMAC pad state
    wrong; ``test_compressions_hash_their_algorithms_lane_count`` ties the block
    functions to the same table)."""
    from matchsim.kernels.attack import _lanes, params

    assert aot.LANES is params.LANES and _lanes.LANES is params.LANES
    assert aot.LANES_SHA256 == params.LANES[params.ALGO_SHA256] == _lanes.LANES_SHA256
