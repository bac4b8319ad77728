"""The generator's one-pass kernels against plain references (the generated files depend on
them byte for byte): E.164 rendering, e-mail rendering, birth years."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.generate import emails, people, phones, strings
from matchsim.locale.tables import load_locale

_TOKEN = re.compile(r"\{(\w+)\}")


def _address(
    pattern: str, first: str, last: str, year: int, nn: int, domain: str
) -> str:  # the documented meaning of each token, in Python
    def fill(m: re.Match[str]) -> str:
        token = m.group(1)
        return {
            "first": first,
            "last": last,
            "f": first[:1],
            "l": last[:1],
            "short": first[:4],
            "yy": f"{year % 100:02d}",
            "yyyy": f"{year % 10000:04d}",
            "nn": f"{1 + nn % 99:02d}",
            "nnn": f"{1 + nn % 999:03d}",
        }[token]

    return _TOKEN.sub(fill, pattern) + "@" + domain


@pytest.mark.parametrize("country", ["NL", "US"])
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300))
def test_render_addresses_matches_python(country: str, seed: int, n: int) -> None:
    loc = load_locale(country)
    rng = np.random.default_rng(seed)
    compiled = loc.email_compiled
    pattern = compiled.choose(rng, n)
    first = rng.integers(0, len(loc.first_dict), n).astype(np.int32)
    last = rng.integers(0, len(loc.last_names.values), n).astype(np.int32)
    year = rng.integers(1900, 2030, n)
    nn = rng.integers(0, 2**31, n)
    domain = loc.domains.sample(rng, n)
    got = emails.render_addresses(
        compiled, pattern, first, last, year, nn, domain,
        loc.first_token_table, loc.last_token_table, loc.domain_table,
    )  # fmt: skip
    firsts, lasts = loc.first_tokens.to_pylist(), loc.last_tokens.to_pylist()
    domains = loc.domains.values.to_pylist()
    want = [
        _address(p, firsts[f], lasts[la], int(y), int(k), domains[d])
        for p, f, la, y, k, d in zip(
            (loc.email_patterns[i][0] for i in pattern),
            first,
            last,
            year,
            nn,
            domain,
            strict=True,
        )
    ]
    assert got.type.equals(loc.first_tokens.type) and got.to_pylist() == want


@pytest.mark.parametrize("country", ["NL", "US"])
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 2000))
def test_render_e164_equals_template_render(country: str, seed: int, n: int) -> None:
    loc = load_locale(country)
    rng = np.random.default_rng(seed)
    numbers = phones.sample_numbers(
        rng, [loc.mobile_plan, loc.fixed_plan], people.phone_plan_choice(rng, loc, n)
    )
    got = phones.render_e164(numbers)
    want = phones.render(numbers, [phones.E164])
    assert got.equals(want)
    assert all(v.startswith(f"+{numbers.country_code}") for v in got.to_pylist())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-3_000_000, 3_000_000), max_size=200))
def test_birth_years_equal_numpy(days: list[int]) -> None:
    dob = np.array(days, dtype=np.int64).astype("datetime64[D]")
    want = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    assert np.array_equal(people.birth_years(dob), want)


def test_birth_years_at_year_edges() -> None:
    edges = np.array(
        ["1600-01-01", "1899-12-31", "1900-01-01", "1900-02-28", "1900-03-01", "1969-12-31",
         "1970-01-01", "2000-02-29", "2000-12-31", "2001-01-01", "9999-12-31"],
        dtype="datetime64[D]",
    )  # fmt: skip
    assert people.birth_years(edges).tolist() == [
        1600, 1899, 1900, 1900, 1900, 1969, 1970, 2000, 2000, 2001, 9999
    ]  # fmt: skip


_ADDRESS_TEXT = st.text(alphabet=st.sampled_from("ab@.\n é+-1"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(_ADDRESS_TEXT, st.none(), st.from_regex(r"[a-z.]{1,8}@[a-z]{1,6}\.nl")),
        max_size=30,
    ),
    st.integers(0, 3),
)
def test_split_addresses_equals_extract_regex(values: list[str | None], start: int) -> None:
    """The numba split gives extract_regex's fields on any input (its own fast case or
    the fallback): no ``@``, several, empty sides, newlines, multi-byte text, nulls,
    a sliced array."""
    array = pa.array(values, pa.string()).slice(min(start, len(values)))
    parts = pc.extract_regex(array, r"^(?P<local>[^@]+)@(?P<domain>.+)$")
    local, domain = strings.split_addresses(array)
    assert local.equals(parts.field("local")) and domain.equals(parts.field("domain"))


def test_split_addresses_fast_case() -> None:
    array = pa.array(["jan.jansen@gmail.com", "x@y", "a@b@c", "é@ü.nl"]).slice(1)
    local, domain = strings.split_addresses(array)
    assert local.to_pylist() == ["x", "a", "é"]
    assert domain.to_pylist() == ["y", "b@c", "ü.nl"]


def _postcodes_by_arrow(rng: np.random.Generator, loc: object, place: np.ndarray) -> pa.Array:
    """The former implementation: take the codes, draw and redraw the letters, join."""
    base = loc.postcodes.take(pa.array(place))  # type: ignore[attr-defined]
    letters = np.frombuffer(loc.postcode_letters.encode(), dtype=np.uint8)  # type: ignore[attr-defined]
    n = place.shape[0]
    pick = letters[rng.integers(0, letters.size, size=(n, 2))]
    banned = {tuple(x.encode()) for x in loc.postcode_exclude}  # type: ignore[attr-defined]
    while banned:
        bad = np.zeros(n, dtype=bool)
        for a, b in banned:
            bad |= (pick[:, 0] == a) & (pick[:, 1] == b)
        if not bad.any():
            break
        pick[bad] = letters[rng.integers(0, letters.size, size=(int(bad.sum()), 2))]
    suffix = pa.array([bytes(r).decode() for r in pick], pa.string())
    return pc.binary_join_element_wise(base, pa.scalar(" "), suffix, "")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3000))
def test_postcodes_equal_the_arrow_join(seed: int, n: int) -> None:
    loc = load_locale("NL")
    place = loc.places.sample(np.random.default_rng(seed + 1), n)
    got = people.postcodes(np.random.default_rng(seed), loc, place)
    want = _postcodes_by_arrow(np.random.default_rng(seed), loc, place)
    assert got.equals(want)
    assert all(len(v) == 7 and v[4] == " " for v in got.to_pylist())
