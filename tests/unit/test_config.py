import pytest

from hotline.config import SettingsError, load_settings

BASE = {
    "HOTLINE_DATABASE_URL": "postgresql://u:p@127.0.0.1/db",
    "HOTLINE_ARI_PASSWORD": "s3cret",
}


def test_defaults_and_driver() -> None:
    s = load_settings(BASE)
    assert s.database_url.startswith("postgresql+asyncpg://")
    assert s.ari_app == "hotline"
    assert (s.api_host, s.api_port) == ("127.0.0.1", 8080)
    assert s.hand_over_on_shutdown


def test_secrets_not_in_repr() -> None:
    text = repr(load_settings(BASE))
    assert "s3cret" not in text
    assert "u:p@" not in text


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HOTLINE_ARI_PASSWORD": "x"}, "HOTLINE_DATABASE_URL"),
        ({"HOTLINE_DATABASE_URL": "postgresql://h/d"}, "HOTLINE_ARI_PASSWORD"),
        ({**BASE, "HOTLINE_DATABASE_URL": "mysql://h/d"}, "HOTLINE_DATABASE_URL"),
        ({**BASE, "HOTLINE_API_LISTEN": "nowhere"}, "HOTLINE_API_LISTEN"),
        ({**BASE, "HOTLINE_TIMEZONE": "Mars/Olympus"}, "HOTLINE_TIMEZONE"),
        ({**BASE, "HOTLINE_SHUTDOWN_CALLS": "drop"}, "HOTLINE_SHUTDOWN_CALLS"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_greeting_list_and_an_empty_greeting() -> None:
    assert load_settings(
        {**BASE, "HOTLINE_GREETING": "sound:beep, recording:welcome"}
    ).greeting == (
        "sound:beep",
        "recording:welcome",
    )
    assert load_settings({**BASE, "HOTLINE_GREETING": ""}).greeting == ()
