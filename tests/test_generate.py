"""The population generator: validity, frequencies, rates, ground truth, determinism."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow.parquet as pq
import pytest

from matchsim.generate import Population, PopulationParams, load_locale, population
from matchsim.generate.people import generate_persons
from matchsim.locale.tables import data_dir

EMAIL = re.compile(r"^[a-z0-9](?:[a-z0-9._+-]*[a-z0-9])?@[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def read(pop: Population, name: str) -> pd.DataFrame:
    return pq.read_table(pop.out / f"{name}.parquet").to_pandas()


def source(country: str, table: str) -> pd.DataFrame:
    return pd.read_csv(
        data_dir() / "locales" / country / f"{table}.csv",
        keep_default_na=False,
        dtype={"postcode": str},
    )


@pytest.mark.parametrize("fixture", ["nl_population", "us_population"])
def test_files_and_manifest(fixture: str, request: pytest.FixtureRequest) -> None:
    pop: Population = request.getfixturevalue(fixture)
    assert sorted(p.name for p in pop.out.iterdir()) == [
        "customers.parquet",
        "manifest.json",
        "platform.parquet",
        "truth.parquet",
    ]
    m = pop.manifest
    assert m["seed"] == m["parameters"]["seed"]
    assert m["counts"]["platform_users"] == pq.read_metadata(pop.platform).num_rows
    assert m["counts"]["customers"] == pq.read_metadata(pop.customers).num_rows
    assert m["elapsed_seconds"] > 0 and m["matchsim_version"]


@pytest.mark.parametrize(("fixture", "region"), [("nl_population", "NL"), ("us_population", "US")])
def test_every_platform_phone_is_valid_e164(
    fixture: str, region: str, request: pytest.FixtureRequest
) -> None:
    platform = read(request.getfixturevalue(fixture), "platform")
    phones = platform["phone"].dropna()
    assert 0.6 < len(phones) / len(platform) < 0.8  # platform_phone_share 0.70
    for text in phones:
        parsed = phonenumbers.parse(text)
        assert phonenumbers.is_valid_number_for_region(parsed, region), text
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == text
    assert phones.is_unique


def test_nl_mobile_share(nl_population: Population) -> None:
    phones = read(nl_population, "platform")["phone"].dropna()
    mobile = phones.str.startswith("+316").mean()
    assert abs(mobile - 0.88) < 0.02


@pytest.mark.parametrize("fixture", ["nl_population", "us_population"])
def test_emails_valid_and_unique(fixture: str, request: pytest.FixtureRequest) -> None:
    platform = read(request.getfixturevalue(fixture), "platform")
    addresses = pd.concat([platform["email"].dropna(), platform["email2"].dropna()])
    bad = [a for a in addresses if not EMAIL.match(a)]
    assert not bad, bad[:5]
    assert addresses.is_unique
    assert abs(platform["email2"].notna().mean() - 0.15 * platform["email"].notna().mean()) < 0.02


def test_madids_are_uuid4_and_unique(nl_population: Population) -> None:
    madid = read(nl_population, "platform")["madid"]
    assert madid.map(lambda s: bool(UUID4.match(s))).all()
    assert madid.is_unique


@pytest.mark.parametrize(("fixture", "country"), [("nl_population", "nl"), ("us_population", "us")])
def test_gender_consistent_with_first_name_and_places_with_postcodes(
    fixture: str, country: str, request: pytest.FixtureRequest
) -> None:
    platform = read(request.getfixturevalue(fixture), "platform")
    names = source(country, "first_names")
    pairs = set(zip(names["name"], names["gender"], strict=True))
    got = set(zip(platform["first_name"].astype(str), platform["gender"].astype(str), strict=True))
    assert got <= pairs
    places = source(country, "places")
    known = set(zip(places["postcode"], places["city"], places["region"], strict=True))
    code = platform["postcode"].str[:4] if country == "nl" else platform["postcode"]
    got_places = set(
        zip(code, platform["city"].astype(str), platform["region"].astype(str), strict=True)
    )
    assert got_places <= known
    if country == "nl":
        assert platform["postcode"].str.fullmatch(r"[1-9]\d{3} [A-Z]{2}").all()


def test_ages_are_adults_from_the_pyramid(nl_population: Population) -> None:
    dob = pd.to_datetime(read(nl_population, "platform")["dob"])
    as_of = pd.Timestamp("2026-01-01")
    age = (as_of - dob).dt.days / 365.2425
    assert age.min() >= 18 and age.max() < 102
    pyramid = source("nl", "age")
    weights = pyramid["male"] + pyramid["female"]
    expected_mean = float((pyramid["age"] * weights).sum() / weights.sum()) + 0.5
    assert abs(age.mean() - expected_mean) < 0.6


@pytest.mark.parametrize("country", ["nl", "us"])
def test_surname_frequencies_follow_the_source_table(country: str) -> None:
    locale = load_locale(country)
    n = 200_000
    persons = generate_persons(
        np.random.default_rng(5),
        locale,
        n,
        as_of=np.datetime64("2026-01-01"),
        second_email_share=0.0,
    )
    table = source(country, "last_names")
    p = table["count"] / table["count"].sum()
    counts = np.bincount(persons.last, minlength=len(table))
    for i in np.argsort(-p.to_numpy())[:10]:
        expected = n * p.iloc[i]
        sigma = np.sqrt(expected * (1 - p.iloc[i]))
        assert abs(counts[i] - expected) < 5 * sigma, table["name"].iloc[i]
    # The long tail is there: distinct surnames match the expectation sum(1 - (1-p)^n).
    expected_distinct = float((1 - (1 - p) ** n).sum())
    assert abs((counts > 0).sum() / expected_distinct - 1) < 0.02


@pytest.mark.parametrize("country", ["nl", "us"])
def test_first_name_frequencies_by_sex(country: str) -> None:
    locale = load_locale(country)
    n = 100_000
    persons = generate_persons(
        np.random.default_rng(6),
        locale,
        n,
        as_of=np.datetime64("2026-01-01"),
        second_email_share=0.0,
    )
    names = source(country, "first_names")
    women = names[names["gender"] == "F"]
    top = women.sort_values("count", ascending=False).iloc[0]
    share = top["count"] / women["count"].sum()
    index = int(np.flatnonzero(np.asarray(locale.first_dict.to_pylist()) == top["name"])[0])
    got = np.mean(persons.first[persons.female] == index)
    assert abs(got - share) < 5 * np.sqrt(share * (1 - share) / persons.female.sum())


def test_overlap_and_ground_truth(nl_population: Population) -> None:
    customers = read(nl_population, "customers")
    truth = read(nl_population, "truth")
    platform = read(nl_population, "platform").set_index("uid")
    assert (customers["cid"] == truth["cid"]).all()
    members = truth["uid"].notna()
    assert members.sum() == round(0.6 * 4_000)
    assert truth.loc[members, "uid"].is_unique
    merged = customers[members.to_numpy()].assign(
        uid=truth.loc[members, "uid"].astype(int).to_numpy()
    )
    user = platform.loc[merged["uid"]]
    # Fields the corruption model never touches agree with the platform's record.
    assert (merged["last_name"].to_numpy() == user["last_name"].astype(str).to_numpy()).all()
    assert (merged["gender"].to_numpy() == user["gender"].astype(str).to_numpy()).all()
    assert (merged["city"].to_numpy() == user["city"].astype(str).to_numpy()).all()
    dob_ok = merged["dob"].notna().to_numpy()
    assert (merged["dob"].to_numpy()[dob_ok] == user["dob"].to_numpy()[dob_ok]).all()
    # An e-mail with no noise at all is exactly the platform's address (or its older one).
    flags = truth.loc[members].reset_index(drop=True)
    clean = ~flags[[c for c in flags if c.startswith("email_")]].any(axis=1).to_numpy()
    on_file = user["email"].fillna("").to_numpy()
    on_file2 = user["email2"].fillna("").to_numpy()
    typed = merged["email"].to_numpy()
    known = user["email"].notna().to_numpy()
    assert ((typed == on_file) | (typed == on_file2))[clean & known].all()
    # Non-members are people the platform has never seen.
    outsiders = customers.loc[~members.to_numpy(), "email"].dropna().str.strip().str.lower()
    addresses = set(platform["email"].dropna()) | set(platform["email2"].dropna())
    assert not (set(outsiders) & addresses)


def test_phone_formats_parse_back_unless_typo(nl_population: Population) -> None:
    customers = read(nl_population, "customers")
    truth = read(nl_population, "truth")
    platform = read(nl_population, "platform").set_index("uid")
    rows = truth["uid"].notna() & ~truth["phone_typo"] & customers["phone"].notna()
    uid = truth.loc[rows, "uid"].astype(int)
    on_platform = platform.loc[uid, "phone"].to_numpy()
    for typed, e164 in zip(customers.loc[rows, "phone"], on_platform, strict=True):
        if pd.isna(e164):
            continue
        parsed = phonenumbers.parse(typed, "NL")
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164, (
            typed
        )
    national = customers["phone"].dropna().str.match(r"^0[1-9]").mean()
    assert national > 0.5  # mostly typed in national format, as a Dutch CRM holds them


def test_corruption_rates_within_tolerance(nl_population: Population) -> None:
    truth = read(nl_population, "truth")
    customers = read(nl_population, "customers")
    rates = nl_population.manifest["parameters"]["corruption"]
    n = len(truth)
    for flag in (
        "email_stale",
        "email_typo",
        "email_case",
        "email_whitespace",
        "email_plus_tag",
        "email_missing",
        "phone_typo",
        "phone_missing",
        "name_typo",
        "dob_missing",
        "postcode_format",
    ):
        p = rates[flag]
        got = truth[flag].mean()
        assert abs(got - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-9, (flag, got, p)
    gmail = customers["email"].fillna("").str.lower().str.strip().str.contains("@gmail.com")
    p = rates["email_gmail_dots"]
    got = truth.loc[gmail.to_numpy(), "email_gmail_dots"].mean()
    assert abs(got - p) < 5 * np.sqrt(p * (1 - p) / gmail.sum())
    assert customers["email"].isna().mean() == pytest.approx(truth["email_missing"].mean())
    cased = customers.loc[truth["email_case"].to_numpy(), "email"].dropna()
    assert (cased != cased.str.lower()).all()
    madid = customers["madid"].notna().mean()
    assert abs(madid - rates["madid_present"]) < 0.03


def _digest(folder: Path) -> dict[str, str]:
    return {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in ("platform.parquet", "customers.parquet", "truth.parquet")
    }


def test_same_seed_gives_byte_identical_parquet(tmp_path: Path) -> None:
    params = PopulationParams(platform_users=6_000, customers=1_500, seed=3, chunk_size=2_500)
    a = population(params, tmp_path / "a")
    b = population(params, tmp_path / "b")
    assert _digest(a.out) == _digest(b.out)
    c = population(
        PopulationParams(platform_users=6_000, customers=1_500, seed=4, chunk_size=2_500),
        tmp_path / "c",
    )
    assert all(_digest(a.out)[k] != _digest(c.out)[k] for k in _digest(a.out))


def test_interrupted_run_leaves_nothing(tmp_path: Path) -> None:
    def interrupt(stage: str, done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        population(
            PopulationParams(platform_users=3_000, customers=100, chunk_size=1_000),
            tmp_path / "pop",
            progress=interrupt,
        )
    assert list(tmp_path.iterdir()) == []


def test_zero_customers(tmp_path: Path) -> None:
    pop = population(PopulationParams(platform_users=1_000, customers=0), tmp_path / "p")
    assert pq.read_metadata(pop.customers).num_rows == 0
    assert pq.read_metadata(pop.truth).num_rows == 0
