"""The entrypoints of the services whose program cannot run here.

InfluxDB 2 and the wifi-repeater's Node app are not available in this
environment; their entrypoints are run for real with a stand-in for the
program they hand over to, which records what it was given.
"""

# ruff: noqa: S106  (the passwords here are made up for the tests)

from pathlib import Path
import stat

import pytest

from .conftest import STACK, clean_env, run

ADMIN_PASSWORD = "influx-Admin-pw"  # noqa: S105
ADMIN_TOKEN = "local-admin-token-1"  # noqa: S105
# What the upstream app prints (src/index.ts), passwords included.
NODE_OUTPUT = r"""
echo "Creating WiFi AP on wlan0 with SSID \"$AP_SSID\" and password \"$AP_PASSWORD\"..."
echo "Connecting wlan1 to WiFi with SSID \"x\" and password \"$WIFI_PASSWORD\"" >&2
"""


def stand_in(path: Path, body: str) -> Path:
    """Write an executable shell script standing in for a program."""
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def read_env(path: Path) -> dict[str, str]:
    """Parse `env` output."""
    return dict(
        line.split("=", 1) for line in path.read_text().splitlines() if "=" in line
    )


# --- InfluxDB ----------------------------------------------------------------


def influxdb(
    tmp_path: Path, *, booted: bool, **variables: str
) -> tuple[int, str, Path]:
    """Run the InfluxDB entrypoint; return (exit code, stderr, recorded env)."""
    record = tmp_path / "upstream.env"
    upstream = stand_in(
        tmp_path / "entrypoint.sh", f'env > "{record}"; echo "args:$*" >> "{record}"'
    )
    bolt = tmp_path / "influxd.bolt"
    if booted:
        bolt.write_text("")
    env = clean_env(
        HEMS_INFLUXDB_BOLT_PATH=str(bolt),
        HEMS_INFLUXDB_UPSTREAM_ENTRYPOINT=str(upstream),
        **variables,
    )
    result = run([str(STACK / "influxdb" / "entrypoint.sh"), "influxd"], env=env)
    return result.returncode, result.stderr, record


def test_influxdb_first_boot_maps_the_variables(tmp_path: Path) -> None:
    code, stderr, record = influxdb(
        tmp_path,
        booted=False,
        INFLUXDB_ADMIN_PASSWORD=ADMIN_PASSWORD,
        INFLUXDB_ADMIN_TOKEN=ADMIN_TOKEN,
        INFLUXDB_ORG="energy-group",
    )
    assert code == 0, stderr
    env = read_env(record)
    assert env["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    assert env["DOCKER_INFLUXDB_INIT_USERNAME"] == "admin"
    assert env["DOCKER_INFLUXDB_INIT_PASSWORD"] == ADMIN_PASSWORD
    assert env["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"] == ADMIN_TOKEN
    assert env["DOCKER_INFLUXDB_INIT_ORG"] == "energy-group"
    assert env["DOCKER_INFLUXDB_INIT_BUCKET"] == "home_assistant"
    assert env["DOCKER_INFLUXDB_INIT_RETENTION"] == "104w"
    assert record.read_text().strip().endswith("args:influxd")
    assert "org 'energy-group'" in stderr
    assert ADMIN_PASSWORD not in stderr
    assert ADMIN_TOKEN not in stderr


def test_influxdb_later_boots_skip_setup(tmp_path: Path) -> None:
    code, stderr, record = influxdb(tmp_path, booted=True)
    assert code == 0, stderr
    assert "DOCKER_INFLUXDB_INIT_MODE" not in read_env(record)
    assert "apply on first boot only" in stderr


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "first boot needs INFLUXDB_ADMIN_PASSWORD INFLUXDB_ADMIN_TOKEN"),
        (
            {"INFLUXDB_ADMIN_TOKEN": ADMIN_TOKEN},
            "first boot needs INFLUXDB_ADMIN_PASSWORD",
        ),
        (
            {"INFLUXDB_ADMIN_TOKEN": ADMIN_TOKEN, "INFLUXDB_ADMIN_PASSWORD": "short"},
            "at least 8 characters",
        ),
    ],
)
def test_influxdb_first_boot_needs_its_secrets(
    tmp_path: Path, variables: dict[str, str], message: str
) -> None:
    code, stderr, record = influxdb(tmp_path, booted=False, **variables)
    assert code == 1
    assert message in stderr
    assert not record.exists()


# --- wifi-repeater -------------------------------------------------------------


def wifi_repeater(
    tmp_path: Path, node_exit: int = 0, **variables: str
) -> tuple[int, str, Path]:
    """Run the wifi-repeater entrypoint with a stand-in ``node``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ran = tmp_path / "node.ran"
    stand_in(bin_dir / "node", f'echo "$1" > "{ran}"{NODE_OUTPUT}exit {node_exit}')
    env = clean_env(HEMS_WIFI_REPEATER_APP="/app/index.js", **variables)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    result = run([str(STACK / "wifi-repeater" / "entrypoint.sh")], env=env)
    return result.returncode, result.stdout + result.stderr, ran


def test_wifi_repeater_is_off_by_default(tmp_path: Path) -> None:
    code, output, ran = wifi_repeater(tmp_path, AP_PASSWORD="long-enough-pw")
    assert code == 0
    assert "wifi-repeater is off" in output
    assert not ran.exists()


def test_wifi_repeater_needs_a_wpa2_password(tmp_path: Path) -> None:
    code, output, ran = wifi_repeater(
        tmp_path, WIFI_REPEATER_ENABLED="true", AP_PASSWORD="short"
    )
    assert code == 0
    assert "AP_PASSWORD must have at least 8 characters" in output
    assert not ran.exists()


def test_wifi_repeater_runs_with_passwords_hidden(tmp_path: Path) -> None:
    code, output, ran = wifi_repeater(
        tmp_path,
        WIFI_REPEATER_ENABLED="true",
        AP_SSID="hems",
        AP_PASSWORD='ap "pass" word',
        WIFI_PASSWORD="upstream-wifi-pw",
    )
    assert code == 0
    assert ran.read_text().strip() == "/app/index.js"
    assert 'SSID "hems" and password "<hidden>"' in output
    assert 'and password "<hidden>"' in output.splitlines()[-1]
    assert "pass" not in output.replace("password", "")
    assert "upstream-wifi-pw" not in output


def test_wifi_repeater_failure_is_a_failure(tmp_path: Path) -> None:
    code, _, ran = wifi_repeater(
        tmp_path, node_exit=3, WIFI_REPEATER_ENABLED="1", AP_PASSWORD="long-enough-pw"
    )
    assert ran.exists()
    assert code == 3  # restart: on-failure restarts it


# --- configurator and proxy ------------------------------------------------------


def test_configurator_gets_the_home_assistant_token(tmp_path: Path) -> None:
    record = tmp_path / "env"
    command = [
        str(STACK / "configurator" / "entrypoint.sh"),
        "sh",
        "-c",
        f'env > "{record}"',
    ]
    assert run(command, env=clean_env(CONFIGURATOR_HA_TOKEN="ha-token")).returncode == 0
    env = read_env(record)
    assert env["HC_HASS_API_PASSWORD"] == "ha-token"  # noqa: S105
    assert "CONFIGURATOR_HA_TOKEN" not in env
    assert run(command, env=clean_env()).returncode == 0
    env = read_env(record)
    assert env["HC_HASS_API"] == "none"
    assert "HC_HASS_API_PASSWORD" not in env


def test_proxy_refuses_a_username_with_a_colon(tmp_path: Path) -> None:
    env = clean_env(
        PROXY_USERNAME="a:b",
        PROXY_PASSWORD="pw",
        HEMS_NGINX_HTPASSWD=str(tmp_path / "htpasswd"),
    )
    result = run([str(STACK / "proxy" / "entrypoint.sh"), "true"], env=env)
    assert result.returncode == 1
    assert "PROXY_USERNAME must be non-empty and contain no ':'" in result.stderr
    assert not (tmp_path / "htpasswd").exists()


def test_entrypoints_are_executable_and_parse() -> None:
    scripts = sorted(STACK.glob("*/entrypoint.sh"))
    assert len(scripts) == 6  # every service but the sidecar (Python)
    for script in scripts:
        assert script.stat().st_mode & stat.S_IXUSR, script
        shell = script.read_text().splitlines()[0].removeprefix("#!")
        assert shell in {"/bin/sh", "/bin/bash"}, script
        result = run([shell, "-n", str(script)])
        assert result.returncode == 0, (script, result.stderr)
