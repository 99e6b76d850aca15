"""With DEBUG off, transport security is on by default and each switch comes from the
environment; `manage.py check --deploy` is clean; `make run` (DEBUG=1, http) is unaffected.
Each case starts a fresh process, as the settings are read once at start."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SETTINGS_SCRIPT = """
import json, django
django.setup()
from django.conf import settings as s
names = ["DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
         "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
         "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER"]
print(json.dumps({name: getattr(s, name) for name in names}))
"""

REQUESTS_SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
def summary(response):
    cookie = response.cookies.get("csrftoken")
    return {"status": response.status_code, "location": response.get("Location"),
            "hsts": response.get("Strict-Transport-Security"),
            "csrf_cookie_secure": bool(cookie["secure"]) if cookie else None,
            "csrf_cookie_samesite": cookie["samesite"] if cookie else None}
client = Client()
print(json.dumps({
    "login_post_http": summary(client.post("/login/", {"username": "a", "password": "b"})),
    "login_get_http": summary(client.get("/login/")),
    "login_get_https": summary(client.get("/login/", secure=True)),
    "login_get_forwarded_https": summary(
        client.get("/login/", HTTP_X_FORWARDED_PROTO="https")),
    "healthz_http": summary(client.get("/healthz")),
}))
"""


def run(script_or_args, tmp_path, **env_overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        # The suite's own switches (plain http, and Playwright's async escape hatch) stay out.
        if not key.startswith(("SECURE_", "SESSION_", "CSRF_", "DEBUG", "DATABASE_URL"))
        and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver,localhost",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="revorg.settings",
        **env_overrides,
    )
    args = script_or_args if isinstance(script_or_args, list) else ["-c", script_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def settings_under(tmp_path, **env):
    result = run(SETTINGS_SCRIPT, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def requests_under(tmp_path, **env):
    result = run(REQUESTS_SCRIPT, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_debug_off_and_a_real_secret(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, DEBUG="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


SECURE_DEFAULTS = {
    "DEBUG": False,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_PROXY_SSL_HEADER": None,
}


def test_debug_off_is_secure_by_default(tmp_path):
    assert settings_under(tmp_path, DEBUG="0") == SECURE_DEFAULTS


def test_empty_variables_mean_the_defaults(tmp_path):
    """docker-compose passes every variable through, empty when the operator set none."""
    empty = {
        name: ""
        for name in [
            "SECURE_SSL_REDIRECT",
            "SECURE_PROXY_SSL_HEADER",
            "SECURE_HSTS_SECONDS",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "TRUSTED_PROXY_COUNT",
            "LOGIN_FAILURE_LIMIT",
            "LOGIN_COOLOFF_MINUTES",
        ]
    }
    assert settings_under(tmp_path, DEBUG="0", **empty) == SECURE_DEFAULTS


def test_every_switch_comes_from_the_environment(tmp_path):
    assert settings_under(
        tmp_path,
        DEBUG="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
        SECURE_HSTS_PRELOAD="0",
        SECURE_SSL_REDIRECT="0",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    ) == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_debug_on_keeps_plain_http_development(tmp_path):
    values = settings_under(tmp_path, DEBUG="1")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    responses = requests_under(tmp_path, DEBUG="1")
    assert responses["login_get_http"]["status"] == 200
    assert responses["login_get_http"]["hsts"] is None
    assert responses["login_get_http"]["csrf_cookie_secure"] is False


def test_a_plain_http_login_is_redirected_to_https(tmp_path):
    responses = requests_under(tmp_path, DEBUG="0")
    assert responses["login_post_http"]["status"] == 301
    assert responses["login_post_http"]["location"] == "https://testserver/login/"
    assert responses["login_get_http"]["status"] == 301
    # Over https: the page, HSTS, and a cookie that only travels over https.
    https = responses["login_get_https"]
    assert https["status"] == 200
    assert https["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert https["csrf_cookie_secure"] is True
    # Without a configured proxy header, a client's X-Forwarded-Proto is not believed.
    assert responses["login_get_forwarded_https"]["status"] == 301
    # Health checks probe over http inside the network: never redirected.
    assert responses["healthz_http"]["status"] == 200


def test_behind_a_tls_proxy_the_forwarded_proto_is_trusted_when_configured(tmp_path):
    responses = requests_under(
        tmp_path, DEBUG="0", SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https"
    )
    assert responses["login_get_forwarded_https"]["status"] == 200
    assert responses["login_get_http"]["status"] == 301


@pytest.mark.parametrize("value", ["", "only-one-part"])
def test_a_malformed_proxy_header_setting_trusts_nothing(tmp_path, value):
    assert (
        settings_under(tmp_path, DEBUG="0", SECURE_PROXY_SSL_HEADER=value)[
            "SECURE_PROXY_SSL_HEADER"
        ]
        is None
    )
