"""Stage 3: hash/encoding schemes, one module per family, looked up by name.

``get_scheme("hmac-sha256", secret=load_secret(env="MATCHSIM_KEY"))`` returns a
:class:`Scheme`; ``scheme.encode(values)`` gives :class:`Digests`, ``scheme.to_text``
renders them as the upload carries them. ``SCHEMES`` maps every name to its class; each
class carries its threat model in one line (``threat``) and its module docstring states
it in full. Deliberately weak schemes live in :mod:`matchsim.schemes.weak`.

=================  ===========================================================
name               family
=================  ===========================================================
md5, sha1,         ``weak.plain``: plain digests (WEAK)
sha256, sha512
truncated-sha256   ``weak.truncated``: first k bits (WEAK)
pepper-sha256      ``keyed``: shared pepper appended/prepended
hmac-sha256        ``keyed``: HMAC with a shared key
salted-sha256      ``salted``: random salt per record (never matches)
pbkdf2-sha256,     ``kdf``: slow KDFs with a shared salt
scrypt, argon2id
uid2               ``uid2``: UID2 raw IDs with rotating bucket salts
=================  ===========================================================
"""

from matchsim.schemes import kdf, keyed, salted, uid2
from matchsim.schemes._base import (
    ENCODINGS,
    KINDS,
    Digests,
    NotEnumerable,
    Scheme,
    decode_text,
    encode_text,
)
from matchsim.schemes._registry import (
    SCHEMES,
    get_scheme,
    param_problems,
    register,
    scheme_from_config,
    upload_params,
)
from matchsim.schemes.weak import plain, truncated

__all__ = [
    "ENCODINGS",
    "KINDS",
    "SCHEMES",
    "Digests",
    "NotEnumerable",
    "Scheme",
    "decode_text",
    "encode_text",
    "get_scheme",
    "kdf",
    "keyed",
    "param_problems",
    "plain",
    "register",
    "salted",
    "scheme_from_config",
    "truncated",
    "uid2",
    "upload_params",
]
