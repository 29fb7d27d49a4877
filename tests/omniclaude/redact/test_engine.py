"""omniclaude.redact: secrets never leave the machine.

Fake secrets are assembled from pieces so that secret scanners do not flag this file.
"""

from __future__ import annotations

import base64
import json
import random
import re
from pathlib import Path
from typing import Any, cast

import pytest
from omniclaude import redact as redact_module
from omniclaude.redact import Redactor, redact
from omniclaude.redact import _engine as engine

AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_TEMP_KEY = "ASIA" + "Y34FZKBOKMUTVV7A"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
GH_CLASSIC = "ghp_" + "A1b2C3d4" * 4 + "E5f6"
GH_OAUTH = "gho_" + "Z9y8X7w6" * 4 + "V5u4"
GH_SERVER = "ghs_" + "Q1w2E3r4" * 4 + "T5y6"
GH_FINE = "github_pat_" + "11ABCDEFG0" + "abcdefghij_KLMNOPQRST" * 3
GITLAB = "glpat-" + "xY3zA9bC7dE5fG1hJ2kL"
SLACK_BOT = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_USER = "xoxp-" + "123456789012-123456789012-1234567890123-" + "0123456789abcdef0123456789abcdef"
SLACK_HOOK_PATH = "T00000000/B00000000/" + "XXXXXXXXXXXXXXXXXXXXXXXX"
STRIPE_LIVE = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_RESTRICTED = "rk_" + "test_" + "51H8abcDEFghiJKLmnoPQRst"
STRIPE_PUBLISHABLE = "pk_" + "live_" + "51H8abcDEFghiJKLmnoPQRst"
GOOGLE = "AIza" + "SyA-1234567890abcdefghijklmnopqrstu"
ANTHROPIC = "sk-ant-" + "api03-" + "AbCdEf0123456789_-" * 5 + "AA"
OPENAI_LEGACY = "sk-" + "T3BlbkFJ" + "abcdEFGH1234" * 3 + "wxyz0123"
OPENAI_PROJECT = "sk-proj-" + "AbCdEf0123456789-_" * 6
NPM = "npm_" + "a1B2c3D4e5" * 3 + "F6g7H8"
PYPI = "pypi-" + "AgEIcHlwaS5vcmc" + "CJDU3MjA0ZjYwLTk4ZTAtNGRmZi05YjM5LTk2Mzk2MDc2NjI1MQ"
HUGGINGFACE = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
OPAQUE = "a9F3kQ7mX2pL5vR8" + "tY1wZ4"
PEM_BODY = "MIIEowIBAAKCAQEAx4UbaDzY\nQ2h3c2JhY2tvZmZpY2UK\n"


def pem(label: str) -> str:
    return f"-----BEGIN {label}-----\n{PEM_BODY}-----END {label}-----"


# (input, expected output). Each kind of marker appears at least once.
POSITIVE: list[tuple[str, str]] = [
    # shapes
    (f"key id {AWS_KEY} here", "key id [REDACTED:aws-access-key] here"),
    (f"AWS_ACCESS_KEY_ID={AWS_TEMP_KEY}", "AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key]"),
    (f"aws_secret_access_key = {AWS_SECRET}", "aws_secret_access_key = [REDACTED:aws-secret-key]"),
    (f'{{"SecretAccessKey": "{AWS_SECRET}"}}', '{"SecretAccessKey": "[REDACTED:aws-secret-key]"}'),
    (f"export AWS_SECRET_KEY={AWS_SECRET}", "export AWS_SECRET_KEY=[REDACTED:aws-secret-key]"),
    (f"token {GH_CLASSIC}.", "token [REDACTED:github-token]."),
    (f"gh auth login --with-token <<< {GH_OAUTH}", "gh auth login --with-token <<< [REDACTED:github-token]"),
    (
        f"git clone https://x-access-token:{GH_SERVER}@github.com/o/r.git",
        "git clone https://x-access-token:[REDACTED:github-token]@github.com/o/r.git",
    ),
    (f"pat: {GH_FINE}", "pat: [REDACTED:github-token]"),
    (f"CI_JOB_TOKEN is not {GITLAB}", "CI_JOB_TOKEN is not [REDACTED:gitlab-token]"),
    (f"SLACK_BOT={SLACK_BOT}", "SLACK_BOT=[REDACTED:slack-token]"),
    (f"({SLACK_USER})", "([REDACTED:slack-token])"),
    (
        f"curl -X POST https://hooks.slack.com/services/{SLACK_HOOK_PATH} -d @msg.json",
        "curl -X POST https://hooks.slack.com/services/[REDACTED:slack-webhook] -d @msg.json",
    ),
    (f"stripe.api_key = '{STRIPE_LIVE}'", "stripe.api_key = '[REDACTED:stripe-key]'"),
    (f"key={STRIPE_RESTRICTED}&x=1", "key=[REDACTED:stripe-key]&x=1"),
    (
        f"https://maps.googleapis.com/api?key={GOOGLE}&q=x",
        "https://maps.googleapis.com/api?key=[REDACTED:google-api-key]&q=x",
    ),
    (f"ANTHROPIC_API_KEY={ANTHROPIC}", "ANTHROPIC_API_KEY=[REDACTED:anthropic-key]"),
    (f"client = Anthropic(api_key='{ANTHROPIC}')", "client = Anthropic(api_key='[REDACTED:anthropic-key]')"),
    (f"openai key {OPENAI_LEGACY}", "openai key [REDACTED:openai-key]"),
    (f"OPENAI_API_KEY={OPENAI_PROJECT}", "OPENAI_API_KEY=[REDACTED:openai-key]"),
    (f"//registry.npmjs.org/:_authToken={NPM}", "//registry.npmjs.org/:_authToken=[REDACTED:npm-token]"),
    (f"twine upload -p {PYPI} dist/*", "twine upload -p [REDACTED:pypi-token] dist/*"),
    (f"HF_TOKEN={HUGGINGFACE}", "HF_TOKEN=[REDACTED:huggingface-token]"),
    (f"session={JWT}; Path=/", "session=[REDACTED:jwt]; Path=/"),
    (f'{{"id_token": "{JWT}"}}', '{"id_token": "[REDACTED:jwt]"}'),
    # PEM private keys, whole block
    (f"before\n{pem('RSA PRIVATE KEY')}\nafter", "before\n[REDACTED:private-key]\nafter"),
    (pem("OPENSSH PRIVATE KEY"), "[REDACTED:private-key]"),
    (pem("EC PRIVATE KEY") + pem("PRIVATE KEY"), "[REDACTED:private-key][REDACTED:private-key]"),
    (pem("ENCRYPTED PRIVATE KEY"), "[REDACTED:private-key]"),
    (pem("PGP PRIVATE KEY BLOCK"), "[REDACTED:private-key]"),
    (f"cat key.pem\n-----BEGIN PRIVATE KEY-----\n{PEM_BODY}", "cat key.pem\n[REDACTED:private-key]\n"),
    (
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n-----END PRIVATE KEY-----\\n", "n": 1}',
        '{"private_key": "[REDACTED:private-key]", "n": 1}',
    ),
    # Authorization headers and bearer values
    (f"Authorization: Bearer {OPAQUE}", "Authorization: Bearer [REDACTED:bearer]"),
    ("authorization: bearer abc.def-ghi", "authorization: bearer [REDACTED:bearer]"),
    (
        "curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA==' https://api.example.com",
        "curl -H 'Authorization: Basic [REDACTED:bearer]' https://api.example.com",
    ),
    (
        f'{{"headers": {{"Authorization": "token {OPAQUE}"}}}}',
        '{"headers": {"Authorization": "[REDACTED:authorization]"}}',
    ),
    (f"Proxy-Authorization: {OPAQUE}", "Proxy-Authorization: [REDACTED:bearer]"),
    (f"Authorization: Bearer {JWT}", "Authorization: Bearer [REDACTED:jwt]"),
    (f"use Bearer {OPAQUE} for the call", "use Bearer [REDACTED:bearer] for the call"),
    ("Cookie: sessionid=abc123; csrftoken=def456", "Cookie: [REDACTED:cookie]"),
    ("Set-Cookie: sid=s%3Aabc; Path=/; HttpOnly", "Set-Cookie: [REDACTED:cookie]"),
    # URL credentials
    ("postgresql://app:s3cr3t@db/x", "postgresql://app:[REDACTED:url-credentials]@db/x"),
    (
        "DATABASE_URL=postgres://u:p%40ss@db.internal:5432/app?sslmode=require",
        "DATABASE_URL=postgres://u:[REDACTED:url-credentials]@db.internal:5432/app?sslmode=require",
    ),
    ("redis://:hunter2@cache:6379/0", "redis://:[REDACTED:url-credentials]@cache:6379/0"),
    ("amqp://guest:pa@ss@rabbit/", "amqp://guest:[REDACTED:url-credentials]@rabbit/"),
    # assignments in text, env dumps, JSON text, YAML, flags
    ("password=hunter2", "password=[REDACTED:password]"),
    ("PASSWORD: hunter2", "PASSWORD: [REDACTED:password]"),
    ('{"user": "bob", "password": "hunter2"}', '{"user": "bob", "password": "[REDACTED:password]"}'),
    ('{"password":"a\\"b", "n": 1}', '{"password": "[REDACTED:password]", "n": 1}'),
    ('{\\"password\\":\\"hunter2\\"}', '{\\"password\\":\\"[REDACTED:password]\\"}'),
    ('{"password": 12345, "n": 1}', '{"password": [REDACTED:password], "n": 1}'),
    ("export DB_PASSWORD=hunter2", "export DB_PASSWORD=[REDACTED:password]"),
    ("MY_SECRET_KEY=abc123\nHOME=/root", "MY_SECRET_KEY=[REDACTED:secret]\nHOME=/root"),
    ("GITHUB_TOKEN=abc123\nPATH=/usr/bin", "GITHUB_TOKEN=[REDACTED:token]\nPATH=/usr/bin"),
    ("mysqladmin --password foo status", "mysqladmin --password [REDACTED:password] status"),
    (
        "tool --api-key 'k 1' --db-password=\"p w\"",
        "tool --api-key '[REDACTED:api-key]' --db-password=\"[REDACTED:password]\"",
    ),
    ("token: abc", "token: [REDACTED:token]"),
    ("auth:\n  client_secret: two words  \n  n: 1", "auth:\n  client_secret: [REDACTED:secret]  \n  n: 1"),
    ("  - passphrase: correct horse battery staple", "  - passphrase: [REDACTED:password]"),
    ("X-Api-Key: abc123", "X-Api-Key: [REDACTED:api-key]"),
    ("PGPASSWORD='p@ss w0rd' psql -h db", "PGPASSWORD='[REDACTED:password]' psql -h db"),
    ("https://example.com/reset?token=abc123&next=/", "https://example.com/reset?token=[REDACTED:token]&next=/"),
    ("conn = connect(user='bob', password='hunter2')", "conn = connect(user='bob', password='[REDACTED:password]')"),
    ('API_KEY: str = "abc123"', 'API_KEY: str = "[REDACTED:api-key]"'),
    ('const apiKey = "abc123";', 'const apiKey = "[REDACTED:api-key]";'),
    ("$config['db_password'] => 'hunter2';", "$config['db_password'] => '[REDACTED:password]';"),
    ('client_secret := "abc"', 'client_secret := "[REDACTED:secret]"'),
    ("SIGNING_KEY=abc PRIVATE_KEY=def", "SIGNING_KEY=[REDACTED:secret] PRIVATE_KEY=[REDACTED:private-key]"),
    ("ACCESS_KEY=abc AccountKey=def==;", "ACCESS_KEY=[REDACTED:api-key] AccountKey=[REDACTED:api-key];"),
    ("credentials=bob:hunter2", "credentials=[REDACTED:credentials]"),
    ("password=password", "password=[REDACTED:password]"),
    ('os.environ["TOKEN"] = "abc123"', 'os.environ["TOKEN"] = "[REDACTED:token]"'),
    ("if password == 'hunter2':", "if password == '[REDACTED:password]':"),
    ("password = f'pw-{n}' + r\"raw\"", "password = f'[REDACTED:password]' + r\"raw\""),
    ("POSTGRES_PASSWORD=postgres\nPOSTGRES_USER=app", "POSTGRES_PASSWORD=[REDACTED:password]\nPOSTGRES_USER=app"),
    (
        "<settings><password>hunter2</password></settings>",
        "<settings><password>[REDACTED:password]</password></settings>",
    ),
    (
        "machine api.example.com login bob password hunter2",
        "machine api.example.com login bob password [REDACTED:password]",
    ),
]

# Inputs that must come back unchanged.
NEGATIVE: list[str] = [
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "fixed in 3f78685 (see #12)",
    "event 123e4567-e89b-12d3-a456-426614174000",
    "Please reset your password before Monday.",
    "max_tokens=1024",
    "token_count=5",
    "tokenizer=bert-base-uncased",
    "passwordless=true",
    '"input_tokens": 12, "output_tokens": 34, "token_type": "bearer"',
    "/home/dev/.ssh/id_ed25519.pub and /etc/passwd",
    "data:image/png;base64," + base64.b64encode(bytes(range(256)) * 64).decode(),
    "sha256:" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "https://example.com/path?x=1&y=two#frag",
    "postgres://db.internal:5432/app and https://user@example.com/",
    "git@github.com:org/repo.git",
    "mail alice@example.com",
    "task-sk-1 and sk-learn-compatible-estimators",
    "AKIA-short, AKIA1234, and AKIAIOSFODNN7EXAMPL",
    "ghp_short",
    STRIPE_PUBLISHABLE,
    "# Setup\n\n1. Click **Forgot password?**\n2. See [docs](https://example.com/docs).\n\n"
    "| field | type |\n|---|---|\n| token | string |\n- `token`: the token to use\n",
    "version 1.2.3-beta.4+build.5",
    "at 2026-11-27T07:19:05.123456Z",
    "connect to 10.0.0.1:5432",
    "the bearer of this letter; Bearer tokens are described in RFC 6750",
    "Authorization is required for this endpoint.",
    "def login(password: str) -> bool:",
    "    token: Optional[str] = None",
    "self.token = token.strip() if token else None",
    "token = self.token",
    "password = os.environ['DB_PASSWORD']",
    "password = getpass.getpass(prompt='Password: ')",
    'headers = {"Authorization": f"Bearer {token}"}',
    "kafka_sasl_password: str | None = None",
    'api_key="${API_KEY}" and token: "${{ secrets.X }}" and secret: {{ .Values.secret }}',
    "PWD=/home/dev\nTOKENIZERS_PARALLELISM=false\nSSH_AUTH_SOCK=/tmp/ssh-x/agent.1",
    "PGPASSWORD=$DB_PASSWORD psql -h db",
    "password: ${DB_PASSWORD}",
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "x = {'password': None, 'token': null}",
    'eos_token="</s>", pad_token="<pad>"',
    "secret_name: my-secret\nsecretKeyRef:\n  key: password",
    "Enter password:",
    "password: ***",
    "-v ./secrets/db_password:/run/secrets/db_password",
    "[REDACTED:password] and [REDACTED:custom]",
    "",
]


@pytest.mark.parametrize(("text", "expected"), POSITIVE)
def test_redacts_secret(text: str, expected: str) -> None:
    assert Redactor().redact_text(text) == expected


@pytest.mark.parametrize("text", NEGATIVE)
def test_keeps_near_miss(text: str) -> None:
    assert Redactor().redact_text(text) == text


def test_case_tables_are_large_enough() -> None:
    assert len(POSITIVE) >= 40
    assert len(NEGATIVE) >= 20


def test_every_kind_is_covered() -> None:
    kinds = {
        "aws-access-key", "aws-secret-key", "github-token", "gitlab-token", "slack-token", "slack-webhook",
        "stripe-key", "google-api-key", "anthropic-key", "openai-key", "jwt", "private-key", "bearer",
        "url-credentials", "password", "secret", "token", "api-key", "cookie", "credentials",
        "npm-token", "pypi-token", "huggingface-token",
    }  # fmt: skip
    expected = "".join(out for _, out in POSITIVE)
    assert {kind for kind in kinds if f"[REDACTED:{kind}]" not in expected} == set()


@pytest.mark.parametrize("text", [text for text, _ in POSITIVE] + NEGATIVE)
def test_redacting_twice_equals_once(text: str) -> None:
    redactor = Redactor()
    once = redactor.redact_text(text)
    assert redactor.redact_text(once) == once


def test_tokens_with_a_shape_need_no_context() -> None:
    # AWS secret keys and opaque tokens have no shape of their own: they need a key or header.
    secrets = [AWS_KEY, AWS_TEMP_KEY, GH_CLASSIC, GH_OAUTH, GH_SERVER, GH_FINE, GITLAB, SLACK_BOT, SLACK_USER]
    secrets += [STRIPE_LIVE, STRIPE_RESTRICTED, GOOGLE, ANTHROPIC, OPENAI_LEGACY, OPENAI_PROJECT, NPM, PYPI]
    secrets += [HUGGINGFACE, JWT]
    blob = "\n".join(f"value {i}: {secret}" for i, secret in enumerate(secrets))
    out = Redactor().redact_text(blob)
    assert [secret for secret in secrets if secret in out] == []


def test_walks_json_structure() -> None:
    event = {
        "event_type": "claude_hook",
        "payload": {
            "input": {
                "tool_input": {"command": f"curl -H 'Authorization: Bearer {OPAQUE}' {JWT}"},
                "env": {"DB_PASSWORD": "hunter2", "HOME": "/root", "GITHUB_TOKEN": GH_CLASSIC},
                "headers": [{"name": "X-Api-Key", "value": "k1"}, {"name": "Accept", "value": "*/*"}],
            },
            "clientSecret": "s",
            "session_token": "t",
            "auth": ["a", "b", 3],
            "credentials": {"user": "bob", "password": "p"},
            "password": None,
            "token": 42,
            "api_key": "",
            "max_tokens": 1024,
            "passwordless": "yes",
            "success": True,
            "ratio": 0.5,
        },
    }
    original = json.loads(json.dumps(event))
    out = redact(event)
    assert out == {
        "event_type": "claude_hook",
        "payload": {
            "input": {
                "tool_input": {"command": "curl -H 'Authorization: Bearer [REDACTED:bearer]' [REDACTED:jwt]"},
                "env": {
                    "DB_PASSWORD": "[REDACTED:password]",
                    "HOME": "/root",
                    "GITHUB_TOKEN": "[REDACTED:github-token]",
                },
                "headers": [{"name": "X-Api-Key", "value": "[REDACTED:api-key]"}, {"name": "Accept", "value": "*/*"}],
            },
            "clientSecret": "[REDACTED:secret]",
            "session_token": "[REDACTED:token]",
            "auth": ["[REDACTED:authorization]", "[REDACTED:authorization]", 3],
            "credentials": {"user": "bob", "password": "[REDACTED:password]"},
            "password": None,
            "token": 42,
            "api_key": "",
            "max_tokens": 1024,
            "passwordless": "yes",
            "success": True,
            "ratio": 0.5,
        },
    }
    assert event == original  # the input is not mutated
    assert list(out["payload"]) == list(event["payload"])  # key order is kept


@pytest.mark.parametrize(
    "key",
    ["password", "PASSWORD", "db-password", "userPassword", "passwd", "secret", "client_secret", "token",
     "accessToken", "api_key", "apiKey", "APIKEY", "x-api-key", "access_key", "private_key", "Authorization",
     "auth", "credentials", "Cookie", "set-cookie", "session_token", "aws_secret_access_key"],
)  # fmt: skip
def test_secret_dict_keys(key: str) -> None:
    out = redact({key: "value"})
    assert out[key].startswith("[REDACTED:")


@pytest.mark.parametrize(
    "key",
    ["tokenizer", "max_tokens", "token_count", "passwordless", "password_hash", "secret_name", "author",
     "key", "session_id", "claude_session_id", "eos_token", "token_type", "authority"],
)  # fmt: skip
def test_ordinary_dict_keys(key: str) -> None:
    assert redact({key: "value"}) == {key: "value"}


def test_dict_keys_are_redacted_as_text() -> None:
    assert redact({GH_CLASSIC: 1}) == {"[REDACTED:github-token]": 1}


def test_scalars_and_other_objects_pass_through() -> None:
    marker = object()
    assert redact(None) is None
    assert redact(3) == 3
    assert redact(True) is True
    assert redact(marker) is marker
    assert redact(f"x {AWS_KEY}") == "x [REDACTED:aws-access-key]"
    assert redact(("a", GH_CLASSIC)) == ["a", "[REDACTED:github-token]"]


def test_deep_nesting_does_not_recurse() -> None:
    value: object = f"password={OPAQUE}"
    for _ in range(10_000):
        value = {"a": [value]}
    out = redact(value)
    for _ in range(10_000):
        assert isinstance(out, dict)
        out = out["a"][0]
    assert out == "password=[REDACTED:password]"


def test_a_header_pair_past_the_recursion_limit_is_redacted_as_near_the_top() -> None:
    pair = ["X-Api-Key", "q7Zk2mP9xR4tW8vB"]
    assert redact([pair]) == [["X-Api-Key", "[REDACTED:api-key]"]]
    value: object = pair
    for _ in range(60):
        value = [value, ["Accept", "text/plain"]]
    out = redact(value)
    for _ in range(60):
        assert isinstance(out, list) and out[1] == ["Accept", "text/plain"]
        out = out[0]
    assert out == ["X-Api-Key", "[REDACTED:api-key]"]


def test_cyclic_input_terminates() -> None:
    loop: list[object] = ["token=abc"]
    loop.append(loop)
    out = redact(loop)
    assert isinstance(out, list)
    assert out[0] == "token=[REDACTED:token]"
    assert out[1] is out


def test_redacting_a_structure_twice_equals_once() -> None:
    event = {"password": "p", "cmd": f"export TOKEN={OPAQUE}", "list": [GH_CLASSIC, {"apiKey": "k"}]}
    once = redact(event)
    assert redact(once) == once


def test_extra_patterns() -> None:
    redactor = Redactor([r"ACME-[0-9]{6}", r"employee=(?P<secret>\d+)"])
    text = "ticket ACME-123456 for employee=4711 with password=x"
    assert redactor.redact_text(text) == (
        "ticket [REDACTED:custom] for employee=[REDACTED:custom] with password=[REDACTED:password]"
    )
    assert redact({"note": "ACME-123456"}, extra_patterns=[r"ACME-[0-9]{6}"]) == {"note": "[REDACTED:custom]"}
    assert redact({"note": "ACME-123456"}) == {"note": "ACME-123456"}


def test_extra_patterns_never_rewrite_markers_or_loop_on_empty_matches() -> None:
    redactor = Redactor([r"REDACTED", r"x*", r"\band\b", r"[a-z]+:[a-z]+"])
    once = redactor.redact_text("password=hunter2 and abc")
    assert once == "password=[REDACTED:password] [REDACTED:custom] abc"
    assert redactor.redact_text(once) == once


def test_extra_patterns_run_after_builtin_rules() -> None:
    # A custom match inside a PEM body must not split the block and leak its tail.
    redactor = Redactor([r"MIIE"])
    assert redactor.redact_text(pem("RSA PRIVATE KEY")) == "[REDACTED:private-key]"


def test_invalid_extra_pattern_is_named() -> None:
    with pytest.raises(ValueError, match=r"invalid redact pattern '\(unclosed'"):
        Redactor(["ok", "(unclosed"])
    with pytest.raises(ValueError, match="unclosed"):
        redact("x", extra_patterns=["(unclosed"])


def test_one_string_is_not_a_pattern_list() -> None:
    with pytest.raises(TypeError):
        Redactor("abc")
    with pytest.raises(TypeError):
        redact("x", extra_patterns="abc")


ADVERSARIAL_UNITS = [
    "a", " ", "\n", "password", "password=", '"password": "', 'password="\\', "password: str ", "\npassword: x ",
    "token: Optional[", "--password ", "--a-", "<password>", "<" + "a" * 60, "eyJ", "eyJa.", "eyJaa.aa",
    "-----BEGIN PRIVATE KEY-----", "sk-", "sk-a", "AKIA", "ghp_", "x://", "a://b:c", "@", "https://a:",
    "Authorization: ", "Bearer ", "cookie:", "login a ", "hooks.slack.com/services/", "\\\"", "[REDACTED:x]",
]  # fmt: skip


@pytest.mark.parametrize("unit", ADVERSARIAL_UNITS)
def test_adversarial_megabyte_completes(unit: str) -> None:
    size = 1_000_000
    text = (unit * (size // len(unit) + 1))[:size]
    assert isinstance(Redactor().redact_text(text), str)


@pytest.mark.parametrize("unit", ["token", "pass_"])
def test_a_megabyte_of_names_before_one_separator_completes(unit: str) -> None:
    text = unit * (1_000_000 // len(unit)) + " = x\n: y"
    assert isinstance(Redactor().redact_text(text), str)


def test_real_session_capture_survives_and_loses_its_token() -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "claude-code-2.1.328-session.jsonl"
    if not fixture.exists():
        pytest.skip("session fixture not present")
    lines = [json.loads(line) for line in fixture.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = [redact(line) for line in lines]
    json.dumps(out)  # still serialisable
    assert out[0]["env"]["CLAUDE_CODE_MESSAGING_TOKEN"] == "[REDACTED:token]"
    assert out[0]["stdin"] == lines[0]["stdin"]


def test_public_names() -> None:
    assert redact_module.__all__ == ["Redactor", "redact"]


# The fast paths (the trigger pre-filter in redact_text, and the walk that redacts only the texts
# holding a trigger) must give exactly what running every rule on every string gives.


class _EveryRule(Redactor):
    """The reference: every rule runs on every string, in the plain stack walk."""

    __slots__ = ()

    def redact_text(self, text: str) -> str:
        return self._redact_text_with_every_rule(text)

    def reference(self, value: object) -> object:
        return self.redact_text(value) if isinstance(value, str) else self._walk(value, None, {})


# Letters that `re` matches to k, s, i and i when it ignores case: Kelvin sign, long s, dotless i,
# dotted capital I.
_CASE_TWINS = {"k": "\u212a", "s": "\u017f", "i": "\u0131", "I": "\u0130"}
_INSERTS = [*":= \n\t\"'@/-_<>[]{}()$.,;#|\\", "\u00e9", "\u2014", "\u03a3", *_CASE_TWINS.values()]
_PROSE = [  # prose in every language the prose rule knows, in text that is not ASCII
    f"\u2014 my {word} is Xy7#abc123, mein {word.upper()} ist \u201cQz9!uvw\u201d" for word in engine._PROSE_WORDS
]
_CASES = [text for text, _ in POSITIVE] + NEGATIVE + [unit * 3 for unit in ADVERSARIAL_UNITS] + _PROSE


def _mutate(rng: random.Random, text: str) -> str:
    """``text`` with one to three random edits: case, look-alike letters, inserts, cuts, splices."""
    for _ in range(rng.randint(1, 3)):
        i, j = sorted(rng.randint(0, len(text)) for _ in range(2))
        edit = rng.randrange(8)
        if edit == 0:
            text = text[:i] + text[i:j].swapcase() + text[j:]
        elif edit == 1:
            text = text.upper() if rng.random() < 0.5 else text.lower()
        elif edit == 2:
            text = "".join(_CASE_TWINS.get(c, c) if rng.random() < 0.3 else c for c in text)
        elif edit == 3:
            text = text[:i] + rng.choice(_INSERTS) + text[i:]
        elif edit == 4:
            text = text[:i] + text[j:]
        elif edit == 5:
            text = text[:i] + text[i:j] * 2 + text[j:]
        elif edit == 6:
            text = text[:i] + rng.choice(_CASES) + text[i:]
        else:
            text = text[:j]
    return text


def _corpus() -> list[str]:
    rng = random.Random(20261127)
    mutations = [_mutate(rng, text) for text in _CASES for _ in range(25)]
    return (
        _CASES
        + mutations
        + [
            "pa\u017f\u017fword=hunter2",
            "PASSWORD: x",
            "Author\u0130zation: Bearer abc123",
            "coo\u212aie: a=1",
        ]
    )


CORPUS = _corpus()


def test_fast_path_matches_every_rule_on_cases_and_mutations() -> None:
    for extra in ((), (r"ACME-[0-9]{6}", r"employee=(?P<secret>\d+)")):
        fast, reference = Redactor(extra), _EveryRule(extra)
        assert [text for text in CORPUS if fast.redact_text(text) != reference.redact_text(text)] == []


def test_every_match_of_a_rule_holds_its_triggers() -> None:
    # Stronger than equal outputs: also matches that a rule then keeps (near misses) hold the triggers.
    missed = []
    for rule in engine._BUILTIN_RULES:
        assert rule.triggers
        for text in CORPUS:
            if rule.pattern.search(text) is None:
                continue
            folded = engine._fold(text)
            if not all(any(literal in folded for literal in clause) for clause in rule.triggers):
                missed.append((rule.kind, text))
    assert missed == []


def _near_cases() -> list[str]:
    """The corpus, and keys and values around the reach of the rules' cheap tests."""
    cases = list(CORPUS)
    run = "Ab1" * 6 + "Cd"  # 20 characters, as long as the entropy rule needs
    for stem in ("pw", "credential"):
        for name in (0, 18, 19, 20, 40, 41, 50):  # the stem and the rest of its name, in characters
            for gap in (0, 38, 39, 40, 41):
                for newline in ("", "\n", "\r\n", "\n \t", "\r", "\n\n"):
                    cases.append(f"x {stem}{'a' * max(0, name - len(stem))}{' ' * gap}{newline}{run}")
    tails = ['"] = "v"', '\\"]: v', "'']=v", " \t= v", "-x_y: v", ".x = v", "\\x = v", "]] = v", ' " = v']
    cases += [f"{head}token{tail}" for head in ("", "a.", "$") for tail in tails]
    cases += [f"{stem}{'a' * name} = v" for stem in ("pw", "credential") for name in (39, 40, 41)]
    cases += ["  - api_token: v", "- token :  v", "a.b.secret_key: v", "\tx-pass:\tv", "-pass: v", "- - key: v"]
    twins = "".join(_CASE_TWINS.values())
    cases += [f"to{twin}en_{twin}d = v\n{twin}ey_{twin}: v" for twin in twins]
    cases += [f"x pass_{twin * 19}\u2014{run}" for twin in twins] + [f"x pass{' ' * 40}\n{twin}{run}" for twin in twins]
    return cases


def test_cheap_tests_pass_wherever_their_rule_matches() -> None:
    heads = {stem[0] for stem in engine.STEMS}
    missed = []
    for rule in engine._BUILTIN_RULES:
        if rule.near is None:
            continue
        for text in _near_cases():
            for start in range(len(text) + 1):
                candidate = text[start : start + 1].lower() in heads or start == 0 or text[start - 1] == "\n"
                if candidate and rule.pattern.match(text, start) and not rule.near(text, start):
                    missed.append((rule.kind, text, start))
    assert missed == []


def test_fold_maps_every_character_a_trigger_letter_matches() -> None:
    # What `re` matches to a trigger's character, ignoring case or not, folds to that character.
    everything = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    literals = {literal for rule in engine._BUILTIN_RULES for clause in rule.triggers or () for literal in clause}
    for char in sorted(set("".join(literals))):
        assert char == char.lower()
        for twin in set(re.findall(re.escape(char), everything, re.IGNORECASE)):
            assert engine._fold(twin) == char, (char, twin)


def _events_with_secrets() -> list[object]:
    """The recorded hook inputs and environments, each string made unique as the forwarder
    benchmark does, with positive cases put in as values, keys, list items and name/value pairs."""
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "claude-code-2.1.328-session.jsonl"
    rows = [json.loads(line) for line in fixture.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(7)

    def unique(value: object, tag: str) -> object:
        if isinstance(value, str):
            return f"{value} {tag}"
        if isinstance(value, dict):
            return {key: unique(item, tag) for key, item in value.items()}
        if isinstance(value, list):
            return [unique(item, tag) for item in value]
        return value

    events: list[object] = []
    for index in range(200):
        row = rows[index % len(rows)]
        event = cast(dict[str, Any], unique(row["stdin"], f"#{index}"))
        event["env"] = row["env"]
        if index % 2:
            secret = rng.choice(CORPUS)
            event["extra"] = {
                "text": secret,
                secret[:40]: [secret, 1, None, {"name": "DB_PASSWORD", "value": secret}],
                "headers": [{"KEY": "x-api-key", "Value": secret}],
                "client_secret": [secret, ""],
                "shared": event.get("tool_input"),
            }
        events.append(event)
    return events


def test_walk_matches_the_reference_on_recorded_events() -> None:
    for extra in ((), (r"ACME-[0-9]{6}",)):
        fast, reference = Redactor(extra), _EveryRule(extra)
        for event in _events_with_secrets():
            # repr also compares key order
            assert repr(fast.redact(event)) == repr(reference.reference(event))


def test_walk_matches_the_reference_on_odd_structures() -> None:
    shared = ["token=abc", {"password": "p"}]
    deep: object = {"apiKey": "k", "note": f"Bearer {OPAQUE}", "list": shared}
    for level in range(120):  # past the recursion limit, with secrets at every depth
        deep = {f"level{level}": [deep, f"password={level}"], "shared": shared}
    cyclic: list[object] = ["token=abc", ("t", GH_CLASSIC)]
    cyclic.append(cyclic)
    values: list[object] = [
        deep,
        cyclic,
        {GH_CLASSIC: 1, "[REDACTED:github-token]": 2, GH_OAUTH: 3},  # redacted keys collide: first wins
        {"[REDACTED:github-token]": {"a": "token=x"}, GH_CLASSIC: "password=y"},
        {"value": "v", "name": "API_TOKEN"},
        {1: "token=abc", None: GH_CLASSIC, (1, 2): ["x"], 2.5: {"secret": ("a", "b")}},
        {"\u0130stanbul": "\u0130 token=abc", "b": ["\u212a", "password=hunter2"], "c": "\u03a3 pa\u017f\u017fword=x"},
        {"auth": [shared, shared, {"x": shared}]},  # a list copied once per kind
        ("a", GH_CLASSIC, ["", "token=abc"]),
        [],
        {},
        "password=x",
        42,
        None,
    ]
    for extra in ((), (r"\bx\b",)):
        fast, reference = Redactor(extra), _EveryRule(extra)
        for value in values:
            assert repr(fast.redact(value)) == repr(reference.reference(value))


def test_a_dict_whose_keys_are_all_plain_is_walked_by_its_values() -> None:
    redactor = Redactor()
    first = {"session_id": "s", "transcript_path": "/t", "note": "hello"}
    assert redactor.redact(first) == first
    assert tuple(first) in engine._PLAIN_SHAPES  # keys that hold a stem but name no secret are plain
    again = {"session_id": f"token={OPAQUE}", "transcript_path": ["password=x"], "note": {"apiKey": "k"}}
    assert repr(redactor.redact(again)) == repr(_EveryRule().reference(again))
    for named in ({"session_id": "s", "password": "p"}, {"name": "API_TOKEN", "value": "v"}, {GH_CLASSIC: 1}):
        assert repr(redactor.redact(named)) == repr(_EveryRule().reference(named))
        assert tuple(named) not in engine._PLAIN_SHAPES
    custom = Redactor((r"session",))
    assert custom.redact(first) == {"[REDACTED:custom]_id": "s", "transcript_path": "/t", "note": "hello"}


def test_walk_copies_and_shares_like_before() -> None:
    shared = {"k": "v"}
    event = {"a": shared, "b": [shared], "c": "plain"}
    out = Redactor().redact(event)
    assert out == event
    assert out is not event and out["a"] is not shared and out["b"] is not event["b"]
    assert out["b"][0] is out["a"]  # a shared container is copied once


def test_line_starts_are_those_of_the_lines_holding_the_offsets() -> None:
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 40)))
        offsets = sorted(rng.sample(range(len(text) + 1), rng.randint(0, len(text) + 1)))
        expected = sorted({text.rfind("\n", 0, offset) + 1 for offset in offsets})
        assert engine._line_starts(text, offsets) == expected
