"""CLK encodings: clkhash compatibility, typo-tolerant linkage, and the frequency attack."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from matchsim import clk
from matchsim.clk.encode import _bits
from matchsim.errors import ConfigError, InputError
from matchsim.generate import Population
from matchsim.secrets import Secret

KEY = Secret(b"test-only shared CLK secret", "test")
NAMES = pa.table(
    {
        "first_name": ["Maria", " maria", "Marja", "Jan", None],
        "last_name": ["Jansen", "Jansen", "Jansen", "de Vries", "Bakker"],
        "dob": pa.array([19000, 19000, 19000, 7000, None], pa.int32()).cast(pa.date32()),
    }
)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    x, y = _bits(a[None, :])[0], _bits(b[None, :])[0]
    return 2 * (x & y).sum() / (x.sum() + y.sum())


def test_same_schema_same_bits_as_clkhash() -> None:
    pytest.importorskip("clkhash", reason="clkhash not installed (optional peer)")
    from clkhash import clk as cclk
    from clkhash import schema as cschema

    feature = {
        "format": {"type": "string", "encoding": "utf-8"},
        "hashing": {
            "comparison": {"type": "ngram", "n": 2},
            "strategy": {"bitsPerToken": 20},
            "hash": {"type": "blakeHash"},
        },
    }
    spec = {
        "version": 3,
        "clkConfig": {"l": 512, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
        "features": [{"identifier": f, **feature} for f in ("first_name", "last_name")],
    }
    rows = [["maria", "jansen"], ["jan", "de vries"], ["zoë", "ölçer"]]
    theirs = cclk.generate_clks(rows, cschema.from_json_dict(spec), "secret", validate=False)
    schema = clk.ClkSchema(
        fields=(clk.ClkField("first_name"), clk.ClkField("last_name")), length=512, layout="record"
    )
    table = pa.table({"first_name": [r[0] for r in rows], "last_name": [r[1] for r in rows]})
    ours = _bits(clk.encode(table, schema, b"secret").words)
    # Not a vacuous comparison: three encodings, each with bits set (bigram hashing of
    # both names sets on the order of 20 bits per bigram in a 512-bit filter).
    assert len(theirs) == len(ours) == 3
    assert all(40 < int(o.sum()) < 512 for o in ours)
    for t, o in zip(theirs, ours, strict=True):
        assert np.array_equal(np.array(t.tolist(), dtype=bool), o)


def test_encoding_is_deterministic_per_key_and_tolerates_typos() -> None:
    a = clk.encode(NAMES, clk.ClkSchema(), KEY).words
    assert np.array_equal(a, clk.encode(NAMES, clk.ClkSchema(), KEY).words)
    assert np.array_equal(a[0], a[1])  # normalised the same
    assert _dice(a[0], a[2]) > 0.85 > _dice(a[0], a[3])  # one typo vs another person
    other = clk.encode(NAMES, clk.ClkSchema(), Secret(b"another key")).words
    assert _dice(a[0], other[0]) < 0.6  # another key: unrelated bits
    assert not a[4, :8].any()  # missing first name sets no bits in its segment


def test_hardening_changes_shapes_and_salt_separates_equal_names() -> None:
    base = clk.ClkSchema(length=256)
    assert clk.encode(NAMES, base, KEY).words.shape == (5, 12)
    bal = clk.encode(NAMES, clk.ClkSchema(length=256, balance=True), KEY)
    fold = clk.encode(NAMES, clk.ClkSchema(length=256, xor_fold=True), KEY)
    assert bal.words.shape == (5, 24) and fold.words.shape == (5, 6)
    weights = _bits(bal.segment("first_name")).sum(axis=1)
    assert (weights == 256).all()  # balanced: constant weight
    salted = clk.encode(
        pa.table({"first_name": ["maria", "maria"], "dob": ["19700101", "19800101"]}),
        clk.ClkSchema(fields=(clk.ClkField("first_name"),), salt_field="dob"),
        KEY,
    )
    assert _dice(salted.words[0], salted.words[1]) < 0.5


def test_link_recovers_typod_pairs_that_exact_hashing_misses(nl_population: Population) -> None:
    r = clk.link(nl_population, clk.ClkSchema(), KEY)
    d = r.to_dict()
    assert d["recall_on_name_typos"]["pairs_with_name_typo"] >= 10
    assert d["recall_on_name_typos"]["exact_hash"] == 0.0
    assert d["recall_on_name_typos"]["clk"] >= 0.8
    assert d["clk"]["recall"] > d["exact_hash"]["recall"]
    assert d["clk"]["f_measure"] > d["exact_hash"]["f_measure"]
    assert d["clk"]["precision"] > 0.95
    assert d["bytes"]["per_record"] == 3 * 512 // 8


@pytest.mark.parametrize(
    ("schema", "worst"),
    [(clk.ClkSchema(salt_field="dob"), 0.01), (clk.ClkSchema(balance=True, xor_fold=True), 0.3)],
)
def test_attack_reidentifies_frequent_names_and_falls_with_hardening(
    nl_population: Population, schema: clk.ClkSchema, worst: float
) -> None:
    plain = clk.attack(nl_population, clk.ClkSchema(), KEY)
    hard = clk.attack(nl_population, schema, KEY)
    assert plain.scores["reidentified_frequent"] > 0.4
    assert plain.success > 0.15
    assert hard.scores["reidentified_frequent"] < worst * 2
    assert hard.success < worst
    assert hard.to_dict()["hardening"] == schema.hardening


def test_schema_from_dict_reports_every_problem() -> None:
    with pytest.raises(ConfigError) as exc:
        clk.ClkSchema.from_dict(
            {"fields": [{"name": "shoe", "q": 9}, "last_name", 3], "length": 100, "salty": 1},
            "scheme.clk",
        )
    assert exc.value.problems == [
        "scheme.clk: unknown key 'salty' "
        "(known keys: balance, fields, layout, length, salt_field, xor_fold)",
        "scheme.clk.fields[0].name: unknown field 'shoe' (known: first_name, last_name, dob, "
        "postcode, city, gender, email, phone)",
        "scheme.clk.fields[0].q: must be >= 1 and <= 4, got 9",
        "scheme.clk.fields[2]: expected a field name or a table",
        "scheme.clk.length: must be a power of two >= 64, got 100",
    ]
    s = clk.ClkSchema.from_dict({"fields": ["first_name"], "length": 256, "salt_field": "dob"})
    assert s.fields == (clk.ClkField("first_name"),) and s.hardening == "salt=dob"
    with pytest.raises(ConfigError):
        clk.LinkParams.from_dict({"threshold": 2})


def test_missing_column_is_an_input_error() -> None:
    with pytest.raises(InputError, match="dob"):
        clk.encode(NAMES.drop_columns(["dob"]), clk.ClkSchema(), KEY, path="customers.parquet")


def test_secret_never_in_results(nl_population: Population) -> None:
    r = clk.attack(nl_population, clk.ClkSchema(length=256), KEY)
    assert KEY.value.decode() not in repr(r) + str(r.to_dict())
