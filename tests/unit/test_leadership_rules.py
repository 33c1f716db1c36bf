"""The lease's rules (hotline.leadership.rules): when a leader may act, renew, and must stop."""

from __future__ import annotations

import pytest

from hotline.leadership.rules import Term, Terms


def test_a_leader_acts_until_the_margin_before_its_lease_could_be_taken() -> None:
    terms = Terms(length_s=2.5, renew_every_s=1.0, margin_s=0.5, try_every_s=0.25)
    term = Term(epoch=7, renewed_at=100.0)
    assert term.acting(terms, 100.0) and term.acting(terms, 101.99)
    assert not term.acting(terms, 102.0)  # the database would end it at 102.5 at the earliest
    assert term.renew_at(terms) == 101.0


def test_a_frozen_process_wakes_deposed() -> None:
    """SIGSTOP for 10 s: on waking its clock is far past the acting time."""
    terms = Terms()
    term = Term(epoch=3, renewed_at=50.0)
    assert not term.acting(terms, 60.0)


def test_renewals_count_from_when_they_were_sent_and_never_go_back() -> None:
    terms = Terms()
    term = Term(epoch=1, renewed_at=10.0)
    later = term.renewed(sent_at=11.0)
    assert later.acting_until(terms) == 11.0 + terms.length_s - terms.margin_s
    assert later.renewed(sent_at=10.5) == later  # an answer to an older renewal
    assert later.epoch == 1


def test_one_missed_renewal_is_survived_two_are_not() -> None:
    terms = Terms()
    term = Term(epoch=1, renewed_at=0.0)
    assert term.acting(terms, 2 * terms.renew_every_s - 0.01)  # the first renewal lost
    assert not term.acting(terms, 2 * terms.renew_every_s + 0.01)


@pytest.mark.parametrize("length_s", [1.5, 2.5, 5.0, 30.0])
def test_terms_for_any_lease_length_renew_twice_in_the_acting_time(length_s: float) -> None:
    terms = Terms.of(length_s)
    assert terms.length_s == length_s
    assert 2 * terms.renew_every_s <= terms.length_s - terms.margin_s
    assert terms.renew_every_s <= 1.0 and terms.margin_s <= 0.5


def test_terms_that_could_not_work_are_refused() -> None:
    with pytest.raises(ValueError):
        Terms(length_s=1.0, renew_every_s=1.0, margin_s=0.5)
    with pytest.raises(ValueError):
        Terms(margin_s=0.0)
