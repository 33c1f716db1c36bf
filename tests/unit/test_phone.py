import pytest

from hotline.core.phone import InvalidNumber, normalise, try_normalise

CASES = [
    ("13800000001", "13800000001"),
    ("138 0000 0001", "13800000001"),
    ("+86 138-0000-0001", "13800000001"),
    ("008613800000001", "13800000001"),
    ("8613800000001", "13800000001"),
    ("010-8888 6666", "1088886666"),
    ("(010) 88886666", "1088886666"),
    ("+861088886666", "1088886666"),
    ("0755 2345 6789", "75523456789"),
    ("+7 495 123 45 67", "+74951234567"),
    ("120", "120"),
    ("12349", "12349"),
]
BAD = ["", "anonymous", "+", "12", "1" * 16, "+86", "138x0000"]


@pytest.mark.parametrize(("raw", "canonical"), CASES)
def test_normalise(raw: str, canonical: str) -> None:
    assert normalise(raw) == canonical


@pytest.mark.parametrize("raw", BAD)
def test_normalise_rejects(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        normalise(raw)


def test_try_normalise_gives_none_for_anonymous() -> None:
    assert try_normalise("anonymous") is None
    assert try_normalise(None) is None
    assert try_normalise("+86 13800000001") == "13800000001"
