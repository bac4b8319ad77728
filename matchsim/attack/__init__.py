"""Stage 5: the attacker. Reverse hashed identifiers by enumeration, and price it.

``reverse(targets, keyspace, knowledge)`` is the library call behind ``matchsim attack``:
targets come from :func:`load_targets` (algorithm and encoding detected), keyspaces from
:mod:`matchsim.attack.keyspace` (phone number plans, e-mail guesses, dates, postcodes,
wordlists), and :mod:`matchsim.attack.cost` turns a measured rate into the time to
exhaust a keyspace under every scheme of the catalogue. :mod:`matchsim.attack.table`
is the data broker's variant: hash a keyspace once, reverse later files by a join.
"""

from matchsim.attack.engine import AttackResult, Knowledge, reverse
from matchsim.attack.keyspace import (
    Mask,
    MaskKeyspace,
    WordKeyspace,
    date_keyspace,
    email_keyspace,
    nl_postcode_keyspace,
    phone_keyspace,
    wordlist_keyspace,
    words_keyspace,
)
from matchsim.attack.targets import TargetSet, load_targets, parse_digests

__all__ = [
    "AttackResult",
    "Knowledge",
    "Mask",
    "MaskKeyspace",
    "TargetSet",
    "WordKeyspace",
    "date_keyspace",
    "email_keyspace",
    "load_targets",
    "nl_postcode_keyspace",
    "parse_digests",
    "phone_keyspace",
    "reverse",
    "wordlist_keyspace",
    "words_keyspace",
]
