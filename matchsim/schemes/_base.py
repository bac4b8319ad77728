"""The Scheme contract, the Digests it produces, and vectorised text encodings.

A scheme turns normalised identifiers into fixed-width digests, ``(n, digest_size)``
uint8, and renders them as text the way an upload file carries them (lower- or upper-case
hex, or Base64 of the raw bytes). Everything here is vectorised over numpy/Arrow buffers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from matchsim.errors import ConfigError
from matchsim.kernels import string_buffers
from matchsim.secrets import Secret

if TYPE_CHECKING:
    from matchsim.attack.cost import Rates, SchemePrice
    from matchsim.attack.engine import Knowledge

ENCODINGS = ("hex", "HEX", "base64")
KINDS = ("plain", "keyed", "salted", "kdf", "operator")
"""What a scheme is: a plain digest; keyed with a shared secret (pepper, HMAC); a salt
per record; a slow KDF; an operator's own ID (UID2)."""


@dataclass(frozen=True)
class NotEnumerable:
    """An attacker cannot reverse a scheme by enumerating candidates; ``reason`` says why."""

    reason: str


@dataclass(frozen=True)
class Digests:
    """Fixed-width digests: ``data`` is ``(n, digest_size)`` uint8; ``valid[i]`` is False
    for null input (its row is all zeros) or undecodable text."""

    data: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return int(self.data.shape[0])


class Scheme:
    """Base class: subclasses set the class attributes and implement :meth:`_digest`.

    Class attributes:
        name: registry name.
        deterministic: the same input always gives the same digest (a join needs this).
        needs_secret: a key/pepper/salt must be shared by advertiser and platform.
        weak: reversible by enumerating candidates at hash speed; kept for comparison.
        threat: the threat model in one line (the README's scheme table shows it).
        kind: one of :data:`KINDS`.
        secret_word: what the shared secret is called in prose ("key", "pepper").
        own_encoding: the scheme writes its digests in this encoding whatever the
            platform profile asks for (UID2: Base64); None: the profile's encoding.
        reference: the scheme a report quotes first among those an outsider reverses
            (plain SHA-256: what platforms ask for); one scheme in the registry.
    """

    name: ClassVar[str]
    kind: ClassVar[str] = "plain"
    own_encoding: ClassVar[str | None] = None
    deterministic: ClassVar[bool] = True
    needs_secret: ClassVar[bool] = False
    weak: ClassVar[bool] = False
    reference: ClassVar[bool] = False
    threat: ClassVar[str] = ""
    secret_word: ClassVar[str] = "key"
    defaults: ClassVar[Mapping[str, Any]] = {}
    # The plain hash the digests look like, where an attacker's best move is to enumerate
    # that (with or without the secret): the default attacker_view.
    looks_like: ClassVar[str | None] = None

    def __init__(self, *, secret: Secret | None = None, encoding: str = "hex", **params: Any):
        if encoding not in ENCODINGS:
            raise ConfigError(
                f"scheme {self.name}: encoding must be one of {', '.join(ENCODINGS)}, "
                f"got {encoding!r}"
            )
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            allowed = ", ".join(["encoding", *sorted(self.defaults)])
            raise ConfigError(
                f"scheme {self.name}: unknown parameter(s) {', '.join(unknown)}; allowed: {allowed}"
            )
        self.secret = secret
        self.encoding = encoding
        self.params: dict[str, Any] = {**self.defaults, **params}

    @classmethod
    def upload_params(cls, params: Mapping[str, Any], profile_encoding: str) -> dict[str, Any]:
        """``params`` with the digest encoding an upload to a platform uses: as given,
        else the scheme's own (UID2), else the platform profile's."""
        out = dict(params)
        out.setdefault("encoding", cls.own_encoding or profile_encoding)
        return out

    def attacker_view(self, knows_secret: bool) -> Knowledge | NotEnumerable:
        """What an attacker holding an upload hashes its guesses with, knowing the
        scheme's secret or not; or why enumeration cannot reverse this scheme.

        Without the secret, an attacker of a keyed scheme tries the plain hash the
        digests look like, and recovers nothing: that is the scheme's point.
        """
        if self.looks_like is None:
            raise NotImplementedError
        from matchsim.attack.engine import Knowledge

        return Knowledge(algorithm=self.looks_like)

    @classmethod
    def outsider_limit(cls) -> NotEnumerable | None:
        """Why an outsider holding only the upload, not the scheme's secret, recovers
        nothing by enumerating candidates; None where the upload and a list of
        candidates (a number plan, an e-mail dictionary) are all it needs.

        The who-can-re-identify matrix (:mod:`matchsim.psi.who`) reads this for the
        outsider's cell when the run did not attack the scheme.
        """
        if cls.needs_secret:
            return NotEnumerable(
                f"nothing recoverable without the {cls.secret_word}: every guess needs it"
            )
        return None

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        """What one guess costs an attacker under this scheme with ``params``: the rate
        here (from ``rates``, measured on demand) and on reference GPUs, or why
        enumeration cannot reverse it."""
        raise NotImplementedError

    # -- contract ---------------------------------------------------------------------

    @property
    def digest_size(self) -> int:
        raise NotImplementedError

    def _digest(self, values: pa.Array) -> np.ndarray:
        """``(n, digest_size)`` digests of ``values`` (non-null string array)."""
        raise NotImplementedError

    def encode(self, values: pa.Array | pa.ChunkedArray) -> Digests:
        """Digest every value; null input gives an invalid all-zero row."""
        values = as_strings(values)
        valid = ~values.is_null().to_numpy(zero_copy_only=False)
        if valid.all() and len(values):  # no null: the digests as they come
            data = np.ascontiguousarray(self._digest(values), dtype=np.uint8)
            return Digests(data.reshape(len(values), self.digest_size), valid)
        data = np.zeros((len(values), self.digest_size), dtype=np.uint8)
        if valid.any():
            present = values if valid.all() else values.filter(pa.array(valid))
            data[valid] = self._digest(present)
        return Digests(data, valid)

    def to_text(self, digests: Digests) -> pa.Array:
        """The digests as strings in this scheme's encoding; invalid rows are null."""
        return encode_text(digests.data, digests.valid, self.encoding)

    def from_text(self, texts: pa.Array | pa.ChunkedArray) -> Digests:
        """Parse digests written in this scheme's encoding; malformed text is invalid."""
        return decode_text(as_strings(texts), self.digest_size, self.encoding)

    def describe(self) -> dict[str, Any]:
        """Name, flags and parameters (never the secret) for manifests and reports."""
        return {
            "name": self.name,
            "deterministic": self.deterministic,
            "needs_secret": self.needs_secret,
            "weak": self.weak,
            "digest_size": self.digest_size,
            "encoding": self.encoding,
            "params": dict(self.params),
            "threat": self.threat,
        }

    def measure_cost(self, sample: pa.Array | None = None, *, min_seconds: float = 0.2) -> float:
        """Measured seconds per guess on this machine (one ``encode`` of ``sample``).

        The attack stage's cost model reads this: an attacker who holds everything the
        platform holds pays at least this much per candidate on a CPU core.
        """
        if sample is None:
            sample = pa.array([f"candidate{i:07d}@example.com" for i in range(1 << 18)])
        self.encode(sample.slice(0, 8))  # compile/warm up
        rounds, start = 0, time.perf_counter()
        while True:
            self.encode(sample)
            rounds += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                return elapsed / (rounds * len(sample))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        secret = f", secret={self.secret!r}" if self.secret is not None else ""
        return f"{type(self).__name__}({self.name!r}{', ' if shown else ''}{shown}{secret})"


def as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A plain (non-chunked, non-dictionary) string or binary array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(pa.string())
    if pa.types.is_null(values.type):
        values = values.cast(pa.string())
    return values


def fixed_width_strings(chars: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """An Arrow string array from an ``(n, w)`` uint8 matrix of ASCII, one row per value."""
    chars = np.ascontiguousarray(chars, dtype=np.uint8)
    n, w = chars.shape
    offsets = np.arange(n + 1, dtype=np.int64) * w
    if offsets[-1] < 2**31:
        typ, offsets = pa.string(), offsets.astype(np.int32)
    else:
        typ = pa.large_string()
    validity = None
    null_count = 0
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        null_count = int((~valid).sum())
    return pa.Array.from_buffers(
        typ, n, [validity, pa.py_buffer(offsets), pa.py_buffer(chars)], null_count=null_count
    )


def fixed_width_binary(rows: np.ndarray) -> pa.Array:
    """An Arrow binary array whose values are the rows of an ``(n, k)`` uint8 matrix."""
    rows = np.ascontiguousarray(rows, dtype=np.uint8)
    n, k = rows.shape
    offsets = (np.arange(n + 1, dtype=np.int64) * k).astype(np.int32)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(rows)])


_HEX_LOWER = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_UPPER = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _hex_pairs(alphabet: np.ndarray) -> np.ndarray:
    """Byte -> its two characters as one little-endian uint16 (low byte: high nibble's)."""
    chars = alphabet.astype(np.uint16)
    byte = np.arange(256)
    return (chars[byte >> 4] | (chars[byte & 0x0F] << 8)).astype("<u2")


_HEX_PAIRS = {"hex": _hex_pairs(_HEX_LOWER), "HEX": _hex_pairs(_HEX_UPPER)}
_KERNEL_BYTES = 1 << 20
"""Digest bytes from which :func:`encode_text` spells hex in a numba loop (3x numpy's)."""
_B64 = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", dtype=np.uint8
)


def _decode_table(alphabet: bytes) -> np.ndarray:
    table = np.full(256, -1, dtype=np.int16)
    table[np.frombuffer(alphabet, dtype=np.uint8)] = np.arange(len(alphabet))
    return table


_HEX_DECODE = {
    "hex": _decode_table(b"0123456789abcdef"),
    "HEX": _decode_table(b"0123456789ABCDEF"),
}
_B64_DECODE = _decode_table(bytes(_B64))


def text_width(digest_size: int, encoding: str) -> int:
    return 2 * digest_size if encoding in ("hex", "HEX") else 4 * ((digest_size + 2) // 3)


def encode_text(data: np.ndarray, valid: np.ndarray, encoding: str) -> pa.Array:
    """Vectorised hex / HEX / Base64 (standard alphabet, ``=`` padded) of each row."""
    n, k = data.shape
    if encoding in ("hex", "HEX"):
        # one table look-up per byte gives both characters (no strided writes)
        data = np.ascontiguousarray(data, dtype=np.uint8)
        if n * k >= _KERNEL_BYTES:  # numba: loaded for big columns only, not for one value
            from matchsim.kernels.hexdecode import hex_encode

            chars = hex_encode(data, _HEX_PAIRS[encoding]).reshape(n, 2 * k)
        else:
            chars = _HEX_PAIRS[encoding][data].view(np.uint8).reshape(n, 2 * k)
    elif encoding == "base64":
        groups = (k + 2) // 3
        padded = np.zeros((n, groups * 3), dtype=np.uint32)
        padded[:, :k] = data
        triples = padded.reshape(n, groups, 3)
        word = (triples[:, :, 0] << 16) | (triples[:, :, 1] << 8) | triples[:, :, 2]
        idx = np.stack([(word >> s) & 0x3F for s in (18, 12, 6, 0)], axis=2)
        chars = _B64[idx.reshape(n, groups * 4)]
        pad = groups * 3 - k
        if pad:
            chars[:, -pad:] = ord("=")
    else:
        raise ConfigError(f"unknown encoding {encoding!r}; known: {', '.join(ENCODINGS)}")
    return fixed_width_strings(chars, valid)


def decode_text(texts: pa.Array, digest_size: int, encoding: str) -> Digests:
    """Inverse of :func:`encode_text`; wrong length or alphabet gives ``valid=False``.

    Hex decoding is case-strict (``hex`` accepts only lower case, ``HEX`` only upper),
    as platforms that require lower-case hex are strict about it.
    """
    n = len(texts)
    width = text_width(digest_size, encoding)
    data, starts, lengths = string_buffers(texts)
    ok = (lengths == width) & ~texts.is_null().to_numpy(zero_copy_only=False)
    out = np.zeros((n, digest_size), dtype=np.uint8)
    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        return Digests(out, ok)
    chars = data[starts[rows, None] + np.arange(width)]
    if encoding in ("hex", "HEX"):
        nib = _HEX_DECODE[encoding][chars]
        good = (nib >= 0).all(axis=1)
        nib = np.where(nib < 0, 0, nib).astype(np.uint8)
        decoded = (nib[:, 0::2] << 4) | nib[:, 1::2]
    elif encoding == "base64":
        groups = width // 4
        pad = groups * 3 - digest_size
        body = chars[:, : width - pad]
        vals = _B64_DECODE[body]
        good = (vals >= 0).all(axis=1)
        if pad:
            good &= (chars[:, width - pad :] == ord("=")).all(axis=1)
        six = np.zeros((len(rows), width), dtype=np.uint32)
        six[:, : width - pad] = np.where(vals < 0, 0, vals)
        quads = six.reshape(len(rows), groups, 4)
        word = (
            (quads[:, :, 0] << 18) | (quads[:, :, 1] << 12) | (quads[:, :, 2] << 6) | quads[:, :, 3]
        )
        triples = np.stack([(word >> s) & 0xFF for s in (16, 8, 0)], axis=2)
        decoded = triples.reshape(len(rows), groups * 3)[:, :digest_size].astype(np.uint8)
        if pad:  # canonical form: the unused low bits of the last character must be zero
            good &= (triples.reshape(len(rows), groups * 3)[:, digest_size:] == 0).all(axis=1)
    else:
        raise ConfigError(f"unknown encoding {encoding!r}; known: {', '.join(ENCODINGS)}")
    out[rows[good]] = decoded[good]
    ok[rows[~good]] = False
    return Digests(out, ok)
