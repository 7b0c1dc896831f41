"""The deployment files in deploy/, checked as far as a machine without Docker, systemd or
nginx can: the compose file parses and wires what it must, the image runs the README's command,
nginx passes WebSockets, and the systemd unit is well-formed."""

import configparser
import json
import re
import shlex

import yaml

from tests.conftest import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
HEALTH = "/healthz"  # gongzhi.web: answers only when the database does


def _readme_command() -> list[str]:
    """The `streamlit run …` line of the README's deployment section."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^streamlit run app\.py.*$", readme, re.MULTILINE)
    assert len(commands) == 1, commands
    return shlex.split(commands[0])


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [tuple(line.split(None, 1)) for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_the_image_runs_the_readmes_command_as_a_non_root_user_with_a_health_check():
    instructions = _dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    commands = [value for name, value in instructions if name == "CMD"]
    assert len(commands) == 1 and json.loads(commands[0]) == _readme_command()
    assert any(name == "RUN" and "pip install -r requirements.txt" in value for name, value in instructions)
    users = [value.strip() for name, value in instructions if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    (health,) = [value for name, value in instructions if name == "HEALTHCHECK"]
    assert f"127.0.0.1:8501{HEALTH}" in health


def test_the_compose_file_runs_the_app_on_postgresql_with_data_in_a_volume():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    app, postgres = compose["services"]["app"], compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    volume, mount = postgres["volumes"][0].split(":", 1)
    assert volume in compose["volumes"] and mount == "/var/lib/postgresql/data"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    environment = postgres["environment"]
    assert app["environment"]["DATABASE_URL"] == (
        f"postgresql+psycopg://{environment['POSTGRES_USER']}:${{POSTGRES_PASSWORD}}@postgres:5432/{environment['POSTGRES_DB']}")
    assert app["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert HEALTH in " ".join(app["healthcheck"]["test"])
    assert app["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in app["environment"]
    assert "STREAMLIT_SERVER_ALLOWED_HOSTS" in app["environment"]
    assert "GONGZHI_TRUSTED_PROXIES" in app["environment"]  # nginx on the host, seen through the bridge


def test_nginx_passes_websockets_and_names_the_host():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert conf.count("{") == conf.count("}")
    assert re.search(r"server_name\s+\S+;", conf)
    stream = conf[conf.index("location /_stcore/stream"):]
    stream = stream[:stream.index("}")]
    assert "proxy_http_version 1.1;" in stream
    assert "proxy_set_header Upgrade $http_upgrade;" in stream
    assert "proxy_set_header Connection $connection_upgrade;" in stream
    assert "proxy_set_header Host $host;" in stream
    assert re.search(r"map \$http_upgrade \$connection_upgrade \{\s*default upgrade;", conf)
    assert "allowedHosts" in conf  # says where the name must go as well
    for location in (conf[conf.index("location / {"):], stream):
        block = location.split("}")[0]
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in block
        assert "proxy_set_header X-Forwarded-Proto $scheme;" in block
    assert "GONGZHI_TRUSTED_PROXIES" in conf


def test_the_systemd_unit_is_well_formed_and_runs_the_app():
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read_string((DEPLOY / "gongzhi.service").read_text(encoding="utf-8"))
    assert unit.sections() == ["Unit", "Service", "Install"]
    service = unit["Service"]
    assert service["User"] != "root" and service["Restart"] == "on-failure"
    executable, *arguments = shlex.split(service["ExecStart"])
    assert executable.startswith("/") and executable.endswith("/streamlit")
    readme = _readme_command()
    assert arguments[:2] == readme[1:3]  # streamlit run app.py …
    assert dict(zip(arguments[2::2], arguments[3::2], strict=True))["--server.port"] == "8501"
    assert service["WorkingDirectory"].startswith("/")
    assert unit["Install"]["WantedBy"] == "multi-user.target"
