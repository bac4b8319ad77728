"""Encode records as cryptographic long-term keys (q-gram Bloom filters), vectorised.

Per-row work is a numba kernel over integer arrays. Python touches only the *distinct*
field values (to cut q-grams) and the distinct tokens (one keyed BLAKE2b each), which
is what clkhash does per row; here it is done once per distinct string.

Hashing follows clkhash's ``blakeHash``: per-field keys from HKDF-SHA256 of the shared
secret (``generate_key_lists``: two 64-byte keys per field, the first used), one keyed
BLAKE2b-512 per token read as 32 little-endian uint16, bit ``i`` = ``short[i] mod l``.
So the same schema and secret give the same bits as clkhash (tested where clkhash is
installed). Salting with a record field instead mixes the token's hash with a keyed
hash of the salt value (a numba splitmix64), since clkhash has no per-record salt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from numba import njit

from matchsim.clk.schema import ClkSchema
from matchsim.errors import ConfigError, InputError
from matchsim.secrets import Secret

KEY_SIZE = 64


@dataclass(frozen=True)
class Clks:
    """Encoded records: ``words`` is ``(n, segments × segment_bits / 64)`` uint64; bit
    ``i`` of a segment is bit ``i % 64`` of its word ``i // 64``."""

    words: np.ndarray = field(repr=False)
    schema: ClkSchema

    def __len__(self) -> int:
        return int(self.words.shape[0])

    def segment(self, name: str) -> np.ndarray:
        """The words of one segment (a field, or ``record``)."""
        try:
            i = self.schema.segments.index(name)
        except ValueError:
            raise ConfigError(
                f"no segment {name!r}; this encoding has: {', '.join(self.schema.segments)}"
            ) from None
        w = self.schema.segment_bits // 64
        return self.words[:, i * w : (i + 1) * w]

    @property
    def nbytes_per_record(self) -> int:
        return int(self.words.shape[1]) * 8


def field_keys(secret: Secret | bytes, n_fields: int) -> list[bytes]:
    """clkhash's key derivation: HKDF-SHA256, no salt/info, 2 keys of 64 bytes per field;
    the first key of each field (what ``blakeHash`` uses)."""
    value = secret.value if isinstance(secret, Secret) else secret
    okm = HKDF(
        algorithm=hashes.SHA256(), length=2 * KEY_SIZE * n_fields, salt=None, info=None
    ).derive(value)
    return [okm[2 * KEY_SIZE * i : 2 * KEY_SIZE * i + KEY_SIZE] for i in range(n_fields)]


def format_field(name: str, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The string each party encodes: NFC, trimmed, lower-case; dates as ``YYYYMMDD``."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        return pc.strftime(values, format="%Y%m%d")
    values = values.cast(pa.string())
    out = pc.utf8_lower(pc.utf8_trim_whitespace(pc.utf8_normalize(values, form="NFC")))
    return pc.if_else(pc.equal(out, ""), pa.scalar(None, pa.string()), out)


def tokens(value: str, q: int) -> list[str]:
    """clkhash's n-gram tokens: ``q-1`` spaces of padding each side (none for q = 1)."""
    if not value:
        return []
    w = " " * (q - 1) + value + " " * (q - 1)
    return [w[i : i + q] for i in range(len(w) - q + 1)]


def token_positions(token: str, key: bytes, k: int, length: int) -> list[int]:
    """clkhash ``blake_hash_token``: k bit positions of one token."""
    shorts: list[int] = []
    for i in range((k + 31) // 32):
        d = hashlib.blake2b(token.encode(), key=key, salt=str(i).encode()).digest()
        shorts.extend(np.frombuffer(d, dtype="<u2").tolist())
    return [s % length for s in shorts[:k]]


@njit(cache=True)
def _splitmix(x: np.uint64) -> np.uint64:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True)
def _encode_kernel(
    idx: np.ndarray,
    val_ptr: np.ndarray,
    val_tok: np.ndarray,
    tok_pos: np.ndarray,
    tok_word: np.ndarray,
    salt: np.ndarray,
    salted: bool,
    length: int,
    out: np.ndarray,
    word_off: int,
) -> None:
    k = tok_pos.shape[1]
    for r in range(idx.shape[0]):
        v = idx[r]
        if v < 0:
            continue
        for j in range(val_ptr[v], val_ptr[v + 1]):
            t = val_tok[j]
            if salted:
                h = _splitmix(tok_word[t] ^ salt[r])
            for i in range(k):
                if salted:
                    pos = np.int64(_splitmix(h + np.uint64(i)) % np.uint64(length))
                else:
                    pos = tok_pos[t, i]
                out[r, word_off + (pos >> 6)] |= np.uint64(1) << np.uint64(pos & 63)


def _distinct(values: pa.Array) -> tuple[list[str | None], np.ndarray]:
    enc = pc.dictionary_encode(values)
    dictionary = enc.dictionary.to_pylist()
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return dictionary, idx


def _salt_words(values: pa.Array, key: bytes) -> np.ndarray:
    dictionary, idx = _distinct(values)
    per_value = np.array(
        [
            int.from_bytes(
                hashlib.blake2b((v or "").encode(), key=key, person=b"matchsim-salt").digest()[:8],
                "little",
            )
            for v in dictionary
        ]
        + [0],
        dtype=np.uint64,
    )
    return per_value[idx]  # idx -1 -> the trailing 0 (missing salt)


def _bits(words: np.ndarray) -> np.ndarray:
    return np.unpackbits(words.view(np.uint8), axis=1, bitorder="little").astype(bool)


def _words(bits: np.ndarray) -> np.ndarray:
    packed = np.packbits(bits, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view(np.uint64)


def _harden(seg: np.ndarray, schema: ClkSchema, key: bytes) -> np.ndarray:
    if schema.balance:
        bits = _bits(seg)
        both = np.concatenate([bits, ~bits], axis=1)
        seed = int.from_bytes(hashlib.blake2b(b"balance", key=key).digest()[:8], "little")
        perm = np.random.default_rng(seed).permutation(both.shape[1])
        seg = _words(both[:, perm])
    if schema.xor_fold:
        half = seg.shape[1] // 2
        seg = seg[:, :half] ^ seg[:, half:]
    return seg


def encode(
    table: pa.Table, schema: ClkSchema, secret: Secret | bytes, *, path: str | None = None
) -> Clks:
    """Encode every row of ``table`` (columns named as the schema's fields).

    Raises:
        InputError: a column the schema needs is missing.
    """
    ConfigError.collect(schema.problems())
    needed = [f.name for f in schema.fields] + ([schema.salt_field] if schema.salt_field else [])
    for name in needed:
        if name not in table.column_names:
            raise InputError(path, "column the CLK schema needs is missing", column=name)
    n = table.num_rows
    keys = field_keys(secret, len(schema.fields))
    length = schema.length
    n_seg = len(schema.segments)
    raw = np.zeros((n, n_seg * length // 64), dtype=np.uint64)
    salted = schema.salt_field is not None
    for fi, (f, key) in enumerate(zip(schema.fields, keys, strict=True)):
        values = format_field(f.name, table.column(f.name))
        dictionary, idx = _distinct(values)
        vocab: dict[str, int] = {}
        val_ptr = np.zeros(len(dictionary) + 1, dtype=np.int64)
        val_tok: list[int] = []
        for i, v in enumerate(dictionary):
            val_tok.extend(vocab.setdefault(t, len(vocab)) for t in tokens(v or "", f.q))
            val_ptr[i + 1] = len(val_tok)
        tok_pos = np.array(
            [token_positions(t, key, f.k, length) for t in vocab], dtype=np.int64
        ).reshape(len(vocab), f.k)
        tok_word = np.array(
            [
                int.from_bytes(hashlib.blake2b(t.encode(), key=key).digest()[:8], "little")
                for t in vocab
            ],
            dtype=np.uint64,
        )
        salt = (
            _salt_words(format_field(schema.salt_field, table.column(schema.salt_field)), key)
            if schema.salt_field
            else np.zeros(n, dtype=np.uint64)
        )
        off = fi * (length // 64) if schema.layout == "field" else 0
        _encode_kernel(
            idx,
            val_ptr,
            np.asarray(val_tok, dtype=np.int64),
            tok_pos,
            tok_word,
            salt,
            salted,
            length,
            raw,
            off,
        )
    w = length // 64
    segs = [_harden(raw[:, i * w : (i + 1) * w], schema, keys[0]) for i in range(n_seg)]
    return Clks(np.ascontiguousarray(np.concatenate(segs, axis=1)), schema)
