"""Shared-secret schemes: pepper-sha256 and hmac-sha256.

Threat model:
    Secret: one key (the pepper) that advertiser and platform must both hold; the join
    works only between parties that share it.
    Platform learns: the same as with plain SHA-256 - it holds the key, so it can test any
    candidate it likes at hash speed; a keyed hash does not protect the customer list
    from the platform, only from outsiders.
    Outsider without the key learns nothing by enumeration: each guess also needs the key
    (256 bits when generated properly). With the key leaked, the scheme falls to plain
    enumeration again.
    Cost per guess (key known): one SHA-256 (pepper) or two (HMAC), about 2x plain;
    measured by ``benchmarks/bench_schemes.py``. HMAC is the sound construction: an
    appended pepper on a Merkle-Damgård hash is fine for fixed keys but a prepended one
    is open to length extension when the digest is used as a MAC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from matchsim.errors import ConfigError
from matchsim.kernels import _CHUNK, concat, hash_strings, string_buffers
from matchsim.schemes._base import NotEnumerable, Scheme
from matchsim.schemes._registry import register
from matchsim.secrets import Secret

if TYPE_CHECKING:
    from matchsim.attack.cost import Rates, SchemePrice
    from matchsim.attack.engine import Knowledge

_BLOCK = 64


def hmac_sha256(key: bytes, values: pa.Array) -> np.ndarray:
    """HMAC-SHA256 (RFC 2104) of every value, vectorised: the key's ipad and opad states
    are computed once and every row pays only its own blocks and one outer block.

    A null row gets what hashing its null ``ipad || value`` string always gave:
    ``SHA-256(opad || SHA-256(""))`` (the schemes mark such rows invalid).
    """
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    ipad = bytes(b ^ 0x36 for b in key)
    opad = bytes(b ^ 0x5C for b in key)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    data, starts, lengths = string_buffers(values)
    out = np.zeros((len(starts), 32), dtype=np.uint8)
    if len(starts) == 0:
        return out
    if len(data) == 0:
        data = np.zeros(1, np.uint8)
    from matchsim.kernels import _openssl  # numba: loaded when hashing, not at validation

    if _openssl.AVAILABLE:
        pads = [np.frombuffer(p, np.uint8).copy() for p in (ipad, opad)]
        _openssl.hmac_sha256_batch(data, starts, lengths, pads[0], pads[1], out, _CHUNK)
    else:
        out[:] = _hmac_by_compressions(data, starts, lengths, ipad, opad)
    if values.null_count:
        null_digest = hashlib.sha256(opad + hashlib.sha256(b"").digest()).digest()
        out[values.is_null().to_numpy(zero_copy_only=False)] = np.frombuffer(null_digest, np.uint8)
    return out


def _sha256_state(block: bytes) -> np.ndarray:
    """The SHA-256 chaining value after one 64-byte block from the IV."""
    from matchsim.kernels.attack.mask import SHA256_IV, sha256_compress

    return sha256_compress(SHA256_IV, block)


def _hmac_by_compressions(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, ipad: bytes, opad: bytes
) -> np.ndarray:
    """HMAC-SHA256 by the numba compressions (no libcrypto): the message hasher started
    from the ipad state, finished with one block from the opad state."""
    from matchsim.kernels.attack import mask as K

    words = np.zeros((starts.shape[0], 8), dtype=np.uint32)
    K.ROW_HASHERS[K.ALGO_SHA256](
        data, starts, lengths, _BLOCK, _sha256_state(ipad), _sha256_state(opad), words
    )
    return np.ascontiguousarray(words).astype(">u4").view(np.uint8)


@register
class PepperSHA256(Scheme):
    name = "pepper-sha256"
    kind = "keyed"
    needs_secret = True
    secret_word = "pepper"
    defaults: ClassVar[Mapping[str, Any]] = {"position": "append"}
    threat = (
        "shared pepper: outsiders cannot enumerate without it; the platform holds it and "
        "can test any candidate at SHA-256 speed"
    )

    def __init__(self, *, secret: Secret | None = None, encoding: str = "hex", **params: object):
        super().__init__(secret=secret, encoding=encoding, **params)
        if self.params["position"] not in ("append", "prepend"):
            raise ConfigError(
                f"scheme {self.name}: position must be 'append' or 'prepend', "
                f"got {self.params['position']!r}"
            )

    @property
    def digest_size(self) -> int:
        return 32

    def _digest(self, values: pa.Array) -> np.ndarray:
        assert self.secret is not None
        pepper = self.secret.value
        if self.params["position"] == "append":
            return hash_strings(concat(None, values, pepper), "sha256")
        return hash_strings(concat(pepper, values, None), "sha256")

    def attacker_view(self, knows_secret: bool) -> Knowledge | NotEnumerable:
        from matchsim.attack.engine import Knowledge

        if not knows_secret or self.secret is None:
            return Knowledge(algorithm="sha256")
        position = "prefix" if self.params["position"] == "prepend" else "suffix"
        return Knowledge(algorithm="sha256", pepper=self.secret.value, pepper_position=position)

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        from matchsim.attack.cost import KERNEL, SchemePrice

        return SchemePrice(
            cls.name,
            True,
            "reversible once the pepper leaks (one constant for every record); without it, "
            "as hard as guessing the pepper",
            rates.known("sha256"),
            KERNEL,
            rates.reference("sha256"),
        )


@register
class HMACSHA256(Scheme):
    name = "hmac-sha256"
    kind = "keyed"
    needs_secret = True
    threat = (
        "keyed HMAC: outsiders learn nothing without the key; the platform holds the key "
        "and can test any candidate at ~2 SHA-256 per guess"
    )

    @property
    def digest_size(self) -> int:
        return 32

    def _digest(self, values: pa.Array) -> np.ndarray:
        assert self.secret is not None
        return hmac_sha256(self.secret.value, values)

    def attacker_view(self, knows_secret: bool) -> Knowledge | NotEnumerable:
        from matchsim.attack.engine import Knowledge

        if not knows_secret or self.secret is None:
            return Knowledge(algorithm="sha256")
        return Knowledge(algorithm="sha256", hmac_key=self.secret.value)

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        from matchsim.attack.cost import KERNEL, SchemePrice, measure_fast

        return SchemePrice(
            cls.name,
            True,
            "priced for an attacker who holds the key; with an unknown key it is not "
            "reversible by enumeration (each guess needs the key)",
            rates.rate(cls.name, lambda: measure_fast("sha256", hmac=True)),
            KERNEL + " (ipad/opad states precomputed)",
            rates.reference("hmac-sha256"),
        )
