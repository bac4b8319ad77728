"""E-mail guesses are generated once per process and replayed exactly."""

from __future__ import annotations

import pytest

import matchsim.attack.keyspace as keyspace
from matchsim.attack.keyspace import email_keyspace


def test_replayed_guesses_equal_a_fresh_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyspace, "_EMAIL_CACHE", {})
    first = list(email_keyspace("NL", max_guesses=70_000).batches())
    assert len(keyspace._EMAIL_CACHE) == 1
    calls = []
    real = keyspace._email_batches
    monkeypatch.setattr(keyspace, "_email_batches", lambda *a: calls.append(a) or real(*a))
    again = list(email_keyspace("NL", max_guesses=70_000).batches())
    assert calls == []  # served from the cache
    assert [len(b) for b in again] == [len(b) for b in first]
    assert all(a.equals(b) for a, b in zip(again, first, strict=True))
    monkeypatch.setattr(keyspace, "_EMAIL_CACHE", {})
    fresh = list(email_keyspace("NL", max_guesses=70_000).batches())
    assert calls  # generated again, the same guesses in the same batches
    assert all(a.equals(b) for a, b in zip(fresh, first, strict=True))
    assert sum(len(b) for b in first) == 70_000


def test_an_attack_that_stops_early_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyspace, "_EMAIL_CACHE", {})
    it = email_keyspace("NL", max_guesses=200_000).batches()
    next(it)
    it.close()  # type: ignore[attr-defined]
    assert keyspace._EMAIL_CACHE == {}
    monkeypatch.setattr(keyspace, "EMAIL_CACHE_GUESSES", 100_000)
    list(email_keyspace("NL", max_guesses=200_000).batches())  # too large to keep
    assert keyspace._EMAIL_CACHE == {}
    list(email_keyspace("NL", max_guesses=60_000).batches())
    list(email_keyspace("NL", max_guesses=50_000).batches())  # 110,000 in all: the older goes
    assert [k[3] for k in keyspace._EMAIL_CACHE] == [50_000]
