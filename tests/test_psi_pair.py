"""PAIR on X25519: the match is exact, rotations unlink IDs, the match rate leaks."""

from __future__ import annotations

from matchsim.generate import Population
from matchsim.oracle.promises import setting
from matchsim.psi.pair import KEY_DAYS, SALT_DAYS, PairSession, pair_experiment, uid2_linkability
from matchsim.psi.who import PARTIES, reidentify_matrix

PUBLISHER = [f"user{i}@example.nl" for i in range(60)]
CUSTOMERS = [f"user{i}@example.nl" for i in range(40, 90)]


def test_pair_match_equals_the_plain_intersection_both_ways() -> None:
    session = PairSession(PUBLISHER)
    run = session.match(CUSTOMERS, day=0)
    assert run.matched == 20
    assert sorted(run.matched_items) == sorted(set(PUBLISHER) & set(CUSTOMERS))
    assert run.match_rate == 20 / 50
    # one more customer on the publisher: the count moves by one (differencing)
    assert session.match([*CUSTOMERS, "user1@example.nl"], day=1).matched == 21
    assert session.match([*CUSTOMERS, "nobody@example.nl"], day=1).matched == 20


def test_publisher_ids_are_stable_within_an_epoch_and_unlinkable_across_rotations() -> None:
    session = PairSession(PUBLISHER)
    day0 = session.publisher_ids(0)
    assert session.publisher_ids(SALT_DAYS - 1) == day0
    after_salt = session.publisher_ids(SALT_DAYS)
    assert not set(after_salt) & set(day0)
    after_keys = session.publisher_ids(KEY_DAYS)
    assert not set(after_keys) & (set(day0) | set(after_salt))
    # ... yet the advertiser, holding plaintext, finds the same customers every epoch
    assert {session.match(CUSTOMERS, day=d).matched for d in (0, SALT_DAYS, KEY_DAYS)} == {20}


def test_pair_experiment_and_matrix(nl_population: Population) -> None:
    s = setting(nl_population.out, pool=200, targets=8, seed=3)
    r = pair_experiment(s, list_size=30, rounds=2, seed=3, publisher_size=300)
    assert r["differencing"]["success"] == 1.0
    assert r["inside_advertiser_dcr"]["success"] == 1.0
    link = {x["gap_days"]: x["publisher_ids_unchanged"] for x in r["linkability"]}
    assert link[1] == 1.0 and link[SALT_DAYS] == 0.0 and link[KEY_DAYS] == 0.0
    assert r["advertiser_links_own_customers_across_rotations"] is True
    u = uid2_linkability(s, seed=3)
    assert u["reidentified"] == u["register_in_stream"] > 0
    m = reidentify_matrix([])
    assert m["parties"] == list(PARTIES)
    assert all(set(row["cells"]) == set(PARTIES) for row in m["schemes"])
    assert "EDPB Guidelines 01/2025" in m["domain_note"]


def test_secrets_stay_out_of_reprs() -> None:
    session = PairSession(PUBLISHER)
    session.match(CUSTOMERS, day=0)
    salt = session.salt(0)
    key = session.publisher.key(0).private_bytes_raw()
    text = repr(session.publisher) + repr(session.advertiser) + repr(session._salts)
    assert salt.hex() not in text and key.hex() not in text and "user1@" not in text
