from hotline.directory.identify import ANONYMOUS, UNKNOWN, Identity, Match, decide


def test_no_number_is_anonymous() -> None:
    assert decide(None, [Match("elder", 1)]) == ANONYMOUS


def test_no_match_is_unknown_and_not_identified() -> None:
    result = decide("13800000009", [])
    assert result == UNKNOWN
    assert not result.identified


def test_elder_own_number() -> None:
    assert decide("1", [Match("elder", 7)]) == Identity("elder", elder_id=7)


def test_terminal_beats_elder_and_contact() -> None:
    matches = [Match("contact", 3, contact_id=9, tier=1), Match("elder", 2), Match("terminal", 5)]
    assert decide("1", matches) == Identity("terminal", elder_id=5)


def test_elder_beats_contact() -> None:
    matches = [Match("contact", 3, contact_id=9, tier=1), Match("elder", 2)]
    assert decide("1", matches).elder_id == 2


def test_shared_home_line_lists_candidates() -> None:
    result = decide("1", [Match("elder", 4), Match("elder", 2)])
    assert result == Identity("elder", candidates=(2, 4))
    assert not result.identified


def test_contact_of_one_elder_takes_lowest_tier() -> None:
    matches = [Match("contact", 3, contact_id=9, tier=2), Match("contact", 3, contact_id=8, tier=1)]
    assert decide("1", matches) == Identity("contact", elder_id=3, contact_id=8)


def test_contact_of_two_elders_is_ambiguous() -> None:
    matches = [
        Match("contact", 3, contact_id=9, tier=1),
        Match("contact", 4, contact_id=10, tier=1),
    ]
    result = decide("1", matches)
    assert result.caller_kind == "contact"
    assert result.elder_id is None
    assert result.candidates == (3, 4)
