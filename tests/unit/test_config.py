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


# --- issue 15 (R27) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listen", "allowed", "refused"),
    [
        ("0.0.0.0:5070", "", True),  # open to the network, anyone may send: refused
        ("10.1.2.3:5070", "", True),
        ("0.0.0.0:5070", "10.1.2.9, 10.1.2.10", False),
        ("127.0.0.1:5070", "", False),  # a gateway on this machine only
        ("[::1]:5070", "", False),
        ("localhost:5070", "", False),
    ],
)
def test_scaip_open_to_the_network_needs_an_allow_list(
    listen: str, allowed: str, refused: bool
) -> None:
    env = {**BASE, "HOTLINE_SCAIP_LISTEN": listen, "HOTLINE_SCAIP_ALLOWED": allowed}
    if refused:
        with pytest.raises(SettingsError, match="HOTLINE_SCAIP_ALLOWED"):
            load_settings(env)
    else:
        s = load_settings(env)
        assert s.scaip_allowed == (frozenset({"10.1.2.9", "10.1.2.10"}) if allowed else None)
        assert s.scaip_rate == 20


@pytest.mark.parametrize(
    ("token", "refused"),
    [
        ("test-token", True),
        ("a" * 40, True),  # long, but one character
        ("0123456789abcdef0123456789abcde", True),  # 31
        ("0123456789abcdef0123456789abcdef", False),  # secrets.token_hex(16)
        ("", False),  # no built-in token at all
    ],
)
def test_the_built_in_admin_token_must_be_strong(token: str, refused: bool) -> None:
    env = {**BASE, "HOTLINE_API_TOKEN": token}
    if refused:
        with pytest.raises(SettingsError, match="HOTLINE_API_TOKEN"):
            load_settings(env)
    else:
        assert load_settings(env).api_token == token


def test_retention_settings_and_their_floors() -> None:
    s = load_settings(BASE)
    assert (s.retain_recordings_days, s.retain_access_days, s.retain_sessions_days) == (
        1095,
        1095,
        90,
    )
    assert s.retention_database_url == ""
    url = load_settings(
        {**BASE, "HOTLINE_RETENTION_DATABASE_URL": "postgresql://r:pw@127.0.0.1/db"}
    ).retention_database_url
    assert url.startswith("postgresql+asyncpg://r:pw@")
    assert "pw" not in repr(load_settings({**BASE, "HOTLINE_RETENTION_DATABASE_URL": url}))
    for name, low in (
        ("HOTLINE_RETAIN_RECORDINGS_DAYS", "29"),
        ("HOTLINE_RETAIN_ACCESS_DAYS", "7"),
    ):
        with pytest.raises(SettingsError, match=name):  # a careless admin cannot purge all
            load_settings({**BASE, name: low})
