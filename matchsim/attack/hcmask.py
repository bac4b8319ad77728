"""A mask keyspace as a hashcat ``.hcmask`` file: the same job on someone else's GPUs.

One line per mask, ``[cs1,][cs2,][cs3,][cs4,]mask`` (hashcat's mask-file format): up to
four custom charsets, then the mask, in which ``?1``..``?4`` name them, ``?d`` is a
digit, ``??`` a literal ``?`` and ``\\,`` a literal comma. Positions whose allowed bytes
are exactly the digits are written ``?d``; every other set becomes a custom charset,
equal sets sharing one. A mask with more than four distinct sets is split, exactly, into
disjoint masks: the custom-charset position with the fewest bytes is fixed to each of
its bytes in turn, until every piece needs at most four charsets. The lines enumerate
the keyspace exactly, no candidate twice and none outside it:

    hashcat -m 1400 -a 3 hashes.txt nl-mobile.hcmask

NL mobile numbers (``--lengths 9``) are the single line ``123458,316?1?d?d?d?d?d?d?d``:
6 x 10^7 candidates, where the mask a user would type, ``316?d?d?d?d?d?d?d?d``, is 10^8.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import tempfile
from pathlib import Path

from matchsim.attack.keyspace import Mask, MaskKeyspace
from matchsim.errors import ConfigError, OutputError

MAX_CHARSETS = 4
"""Custom charsets hashcat allows per mask (``-1`` .. ``-4``)."""

_DIGITS = b"0123456789"
_PRINTABLE = set(range(0x20, 0x7F)) - {ord("\\")}


def _escape(byte: int) -> str:
    """One byte as hashcat reads it in a mask-file line."""
    if byte not in _PRINTABLE:
        raise ConfigError(
            f"byte {byte:#04x} cannot be written to a hashcat mask file "
            "(only printable ASCII other than a backslash)"
        )
    ch = chr(byte)
    if ch == "?":
        return "??"
    if ch == ",":
        return "\\,"
    return ch


def _custom_sets(mask: Mask) -> list[bytes]:
    """The distinct allowed-byte sets of ``mask`` that need a custom charset, in order
    of first appearance."""
    out: list[bytes] = []
    for p in mask.positions:
        if len(p) > 1 and p != _DIGITS and p not in out:
            out.append(p)
    return out


def split_for_hashcat(mask: Mask, limit: int = MAX_CHARSETS) -> list[Mask]:
    """``mask`` as disjoint masks, in enumeration order, each with at most ``limit``
    custom charsets (their union is exactly ``mask``)."""
    if len(_custom_sets(mask)) <= limit:
        return [mask]
    # Fix the position whose set is smallest (fewest pieces); ties: the leftmost.
    pos = min(
        (i for i, p in enumerate(mask.positions) if len(p) > 1 and p != _DIGITS),
        key=lambda i: (len(mask.positions[i]), i),
    )
    out: list[Mask] = []
    for b in mask.positions[pos]:
        piece = Mask((*mask.positions[:pos], bytes([b]), *mask.positions[pos + 1 :]))
        out.extend(split_for_hashcat(piece, limit))
    return out


def mask_line(mask: Mask) -> str:
    """One hashcat mask-file line for ``mask`` (at most four custom charsets)."""
    sets = _custom_sets(mask)
    if len(sets) > MAX_CHARSETS:
        raise ConfigError(f"mask {mask.text()} needs {len(sets)} custom charsets; split it first")
    parts = ["".join(_escape(b) for b in s) for s in sets]
    body = []
    for p in mask.positions:
        if len(p) == 1:
            body.append(_escape(p[0]))
        elif p == _DIGITS:
            body.append("?d")
        else:
            body.append(f"?{sets.index(p) + 1}")
    return ",".join([*parts, "".join(body)])


def hcmask_lines(keyspace: MaskKeyspace) -> list[str]:
    """Every line of the ``.hcmask`` file of ``keyspace``, in its enumeration order."""
    return [mask_line(piece) for m in keyspace.masks for piece in split_for_hashcat(m)]


HASHCAT_MODES = {"md5": 0, "sha1": 100, "sha256": 1400, "sha512": 1700}
"""hashcat's ``-m`` hash mode of each plain algorithm."""


def hashcat_command(algorithm: str, hashes: Path, mask_file: Path) -> str:
    """The hashcat command line that runs the job of a plain ``algorithm`` upload."""
    # Quoted for a POSIX shell: the line is meant to be pasted, and a file name is data.
    return (
        f"hashcat -m {HASHCAT_MODES[algorithm]} -a 3 "
        f"{shlex.quote(str(hashes))} {shlex.quote(str(mask_file))}"
    )


def hcmask_text(keyspace: MaskKeyspace) -> str:
    return "".join(line + "\n" for line in hcmask_lines(keyspace))


def write_hcmask(keyspace: MaskKeyspace, path: Path) -> int:
    """Write ``keyspace`` as a hashcat mask file at ``path``, whole or not at all.

    Returns the number of lines. The file is written to a temporary sibling and renamed
    into place, so a reader never sees half a file.

    Raises:
        OutputError: ``path`` already exists, or its folder cannot be written.
        ConfigError: a byte hashcat's mask files cannot hold.
    """
    text = hcmask_text(keyspace)
    if path.exists() or path.is_symlink():
        raise OutputError(f"{path} already exists; choose a new file for the hashcat masks")
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii", newline="\n") as fh:
            fh.write(text)
        try:
            os.link(tmp, path)  # fails, rather than replaces, if path appeared meanwhile
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            os.replace(tmp, path)
    except FileExistsError:
        raise OutputError(
            f"{path} already exists; choose a new file for the hashcat masks"
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return text.count("\n")
