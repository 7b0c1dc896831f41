"""The shipped .streamlit/config.toml keeps the hardening the deployment guide promises, and
Streamlit itself reads it that way."""

import tomllib

from tests.conftest import PROJECT_ROOT

CONFIG = PROJECT_ROOT / ".streamlit" / "config.toml"


def shipped() -> dict:
    with CONFIG.open("rb") as file:
        return tomllib.load(file)


def test_cross_site_requests_are_refused():
    server = shipped()["server"]
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True
    assert server["corsAllowedOrigins"] == []  # only pages served by the app itself


def test_only_known_host_names_reach_the_app():
    assert shipped()["server"]["allowedHosts"] == ["localhost", "127.0.0.1"]


def test_errors_show_no_details_and_nothing_is_reported_home():
    config = shipped()
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


def test_uploads_are_limited():
    assert shipped()["server"]["maxUploadSize"] == 20  # megabytes; Streamlit's default is 200


def test_no_cookie_secret_is_committed():
    """A secret in the repository is no secret: it comes from the environment or secrets.toml."""
    assert "cookieSecret" not in shipped()["server"]


def test_streamlit_reads_the_options_as_written(monkeypatch):
    from streamlit import config

    monkeypatch.chdir(PROJECT_ROOT)
    config.get_config_options(force_reparse=True)
    try:
        assert config.get_option("server.enableXsrfProtection") is True
        assert config.get_option("server.enableCORS") is True
        assert config.get_option("server.allowedHosts") == ["localhost", "127.0.0.1"]
        assert config.get_option("client.showErrorDetails") == "none"
        assert config.get_option("server.maxUploadSize") == 20
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)
