"""The redaction corpus: realistic but fake credentials in the places they turn up, and near misses.

`POSITIVES` hold a secret each (any 12-character piece of it must not leave the machine); `NEGATIVES`
must come out unchanged. Vendor tokens are made from each vendor rule's own example with a fresh random
body, so they have the vendor's shape but are not real. `hidden_corpus.py` is the part kept out of rule
authoring.
"""

from __future__ import annotations

import base64
import random
import re
import string

from omniclaude.redact.vendors import VENDOR_RULES

from tests.omniclaude.redact.fakes import ALNUM, B64, HEX, LOWER_ALNUM, URLSAFE, Case, Fakes

_f = Fakes("corpus")
_rng = random.Random("corpus-vendors")


def _fresh(token: str, keep: int) -> str:
    """``token`` with every character after the first ``keep`` replaced by a random one of its class."""
    out = list(token)
    for index in range(keep, len(out)):
        char = out[index]
        if char.isdigit():
            out[index] = _rng.choice(string.digits)
        elif char in "abcdef":
            out[index] = _rng.choice("abcdef")
        elif char in "ABCDEF":
            out[index] = _rng.choice("ABCDEF")
        elif char.islower():
            out[index] = _rng.choice(string.ascii_lowercase)
        elif char.isupper():
            out[index] = _rng.choice(string.ascii_uppercase)
    return "".join(out)


def _vendor_cases() -> list[Case]:
    cases = []
    for rule in VENDOR_RULES:
        pattern = re.compile(rule.pattern)
        match = pattern.search(rule.positive)
        assert match is not None, rule.id
        span = match.span("v") if "v" in pattern.groupindex else match.span()
        example = rule.positive[span[0] : span[1]]
        keep = max((len(k) for k in rule.keywords if example.lower().startswith(k)), default=0)
        for _attempt in range(20):
            token = _fresh(example, keep)
            text = rule.positive[: span[0]] + token + rule.positive[span[1] :]
            if pattern.search(text):
                break
        else:  # the random body broke the shape (a checked character): use the example itself
            token, text = example, rule.positive
        head, tail = rule.positive[: span[0]], rule.positive[span[1] :]
        cases.append(Case(rule.id, head + token + tail, (token,)))
        cases.append(Case(rule.id, f"output: {head}{token}{tail}\nexit 0", (token,)))
        cases.append(Case(rule.id, f'{{"result": "{head}{token}{tail}"}}', (token,)))
    return cases


def _builtin_shapes() -> list[Case]:
    f = _f
    shapes = {
        "aws-access-key": "AKIA" + f.of(string.ascii_uppercase + string.digits, 16),
        "github-token": "ghp_" + f.of(ALNUM, 36),
        "github-fine-grained": "github_pat_" + f.of(ALNUM, 22) + "_" + f.of(ALNUM, 59),
        "gitlab-token": "glpat-" + f.of(URLSAFE, 20),
        "slack-token": "xoxb-" + f.digits(12) + "-" + f.digits(13) + "-" + f.of(ALNUM, 24),
        "stripe-key": "sk_live_" + f.of(ALNUM, 24),
        "google-api-key": "AIza" + f.of(URLSAFE, 35),
        "anthropic-key": "sk-ant-api03-" + f.of(URLSAFE, 90),
        "openai-key": "sk-proj-" + f.of(URLSAFE, 60),
        "npm-token": "npm_" + f.of(ALNUM, 36),
        "pypi-token": "pypi-AgEIcHlwaS5vcmc" + f.of(URLSAFE, 60),
        "huggingface-token": "hf_" + f.of(ALNUM, 34),
        "jwt": "eyJhbGciOiJIUzI1NiJ9." + f.of(URLSAFE, 40) + "." + f.of(URLSAFE, 43),
    }
    cases = []
    for family, token in shapes.items():
        cases.append(Case(family, f"found {token} in logs", (token,)))
        cases.append(Case(family, f'{{"config": {{"value": "{token}"}}}}', (token,)))
        cases.append(Case(family, f"export SOME_VAR={token}", (token,)))
    return cases


def _contextual() -> list[Case]:
    f = _f
    cases: list[Case] = []

    def add(family: str, template: str, secret: str) -> None:
        cases.append(Case(family, template.format(s=secret), (secret,)))

    # Names that contain a secret word, in every syntax.
    for name in ("DB_PASS", "MYSQL_PWD", "SECRET_KEY_BASE", "LARAVEL_APP_KEY", "pwd", "REDIS_AUTH",
                 "SESSION_SECRET", "COOKIE_SECRET", "OAUTH_CLIENT_SECRET", "ENCRYPTION_KEY", "JWT_PRIVATE",
                 "API_CREDENTIAL", "AccessToken", "dbPassword"):  # fmt: skip
        secret = f.password(16)
        add("env-assignment", f"{name}={{s}}", secret)
        add("shell-export", f"export {name}='{{s}}'", f.password(15))
        add("json-key", f'{{{{"{name}": "{{s}}"}}}}', f.password(17))
        add("yaml-key", f"config:\n  {name}: {{s}}\n", f.password(18))
    for template in (
        'password = "{s}"',  # TOML / Python
        "[mysql]\npassword = {s}\n",  # INI
        '<property name="db.password" value="{s}"/>',
        '<user password="{s}" name="admin"/>',  # XML attribute
        "<Password>{s}</Password>",
        "'db_password' => '{s}',",  # PHP array
        "define('DB_PASSWORD', '{s}');",  # PHP define
        'config.api_secret = "{s}"',  # Ruby
        ':password => "{s}"',  # Ruby hash rocket
        'connect(host="db", passwd="{s}")',  # Python keyword
        "--db-password {s}",
        "--client-secret={s}",
        '$env:DEPLOY_PASSWORD = "{s}"',
        "spring.datasource.password={s}",
        "Server=db;Database=app;User Id=sa;Password={s};",
        "Pwd={s};",
        "set DB_PASS={s}",
        "PASS: {s}",
        "pass: {s}",
    ):
        add("keyword-syntax", template, f.password(16))
    # Name/value pairs and header lists.
    add("name-value-pair", '{{"env": [{{"name": "DB_PASSWORD", "value": "{s}"}}]}}', f.password(16))
    add("name-value-pair", '[{{"key": "X-Api-Key", "value": "{s}"}}]', f.of(ALNUM, 32))
    add("name-value-pair", '<add key="SmtpPass" value="{s}"/>', f.password(16))
    add("header-list", '[["Accept", "*/*"], ["X-Auth-Token", "{s}"]]', f.of(ALNUM, 32))
    add("header-list", "headers = [('Authorization', 'Bearer {s}')]", f.of(ALNUM, 40))
    # .netrc and .pgpass.
    add("netrc", "machine github.com login octocat password {s}", f.of(ALNUM, 20))
    add("netrc", "machine api.example.com\n  login bot\n  password {s}\n", f.password(16))
    add("pgpass", "db.internal:5432:app:app_user:{s}", f.password(16))
    add("pgpass", "*:*:*:postgres:{s}", f.password(16))
    # Passwords on command lines.
    add("curl-user", "curl -u admin:{s} https://ci.example.com/api", f.password(16))
    add("curl-user", "curl --user 'deploy:{s}' -X POST https://x.example.com", f.password(16))
    add("mysql-p", "mysql -u root -p{s} app < dump.sql", f.password(16))
    add("mysql-p", "mysqldump -uroot -p'{s}' --all-databases", f.password(16))
    add("sshpass", "sshpass -p {s} ssh root@10.0.0.7", f.password(16))
    add("sshpass", "sshpass -p '{s}' scp a.txt host:/tmp", f.password(16))
    add("redis-cli", "redis-cli -h cache.local -a {s} ping", f.password(16))
    add("redis-cli", "redis-cli --pass {s} info", f.password(16))
    add("docker-login", "docker login -u ci -p {s} registry.example.com", f.password(16))
    add("docker-login", "docker login --password {s} ghcr.io", f.password(16))
    add("openssl-pass", "openssl pkcs12 -export -in c.pem -out c.p12 -passout pass:{s}", f.password(16))
    add("openssl-pass", "openssl rsa -in k.pem -passin pass:{s}", f.password(16))
    add("sudo-stdin", "echo {s} | sudo -S systemctl restart app", f.password(16))
    add("sudo-stdin", "echo '{s}' | sudo -S -k true", f.password(16))
    add("from-literal", "kubectl create secret generic db --from-literal=password={s}", f.password(16))
    add("from-literal", "kubectl create secret generic api --from-literal=API_TOKEN={s}", f.of(ALNUM, 32))
    add("htpasswd", "htpasswd -bc /etc/nginx/.htpasswd admin {s}", f.password(16))
    add("cli-token-flag", "gh auth login --with-token --token {s}", f.of(ALNUM, 36))
    add("cli-token-flag", "vault login -method=userpass username=me password={s}", f.password(16))
    # Private keys without their BEGIN line, or wrapped in base64.
    add("private-key-body", "{s}\n-----END RSA PRIVATE KEY-----", f.pem_body(6, "MIIEowIBAAKCAQEA"))
    add("private-key-body", "key material:\n{s}\n", f.pem_body(5))
    add("private-key-body", '"private_key": "{s}"', f.pem_body(3).replace("\n", "\\n"))
    wrapped = base64.b64encode(
        (
            "-----BEGIN RSA PRIVATE KEY-----\n"
            + f.pem_body(4, "MIIEowIBAAKCAQEA")
            + "\n-----END RSA PRIVATE KEY-----\n"
        ).encode()
    ).decode()
    add("kubeconfig-key-data", "users:\n- name: admin\n  user:\n    client-key-data: {s}\n", wrapped)
    add("kubeconfig-key-data", '{{"client-key-data": "{s}"}}', wrapped)
    add(
        "k8s-secret-data", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  config.json: {s}\n", f.b64(48)
    )
    add("k8s-secret-data", "kind: Secret\ntype: Opaque\ndata:\n  username: YWRtaW4=\n  password: {s}\n", f.b64(15))
    add("pem-block", "-----BEGIN OPENSSH PRIVATE KEY-----\n{s}\n-----END OPENSSH PRIVATE KEY-----", f.of(B64, 140))
    add("pem-block", "-----BEGIN EC PRIVATE KEY-----\n{s}", f.of(B64, 120))
    # Authorization with every scheme.
    for scheme in ("Bearer", "Basic", "Token", "token", "SSWS", "ApiKey", "Bot", "GenieKey", "Key"):
        add("authorization", f"Authorization: {scheme} {{s}}", f.of(ALNUM, 32))
    add(
        "authorization",
        "-H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/x, Signature={s}'",
        f.of(HEX, 64),
    )
    add("authorization", '{{"headers": {{"authorization": "{s}"}}}}', f.of(ALNUM, 30))
    add("cookie", "Cookie: session={s}; theme=dark", f.of(ALNUM, 32))
    add("cookie", "Set-Cookie: sid={s}; HttpOnly", f.of(LOWER_ALNUM, 32))
    add("x-api-key", "X-API-Key: {s}", f.of(ALNUM, 32))
    # URL credentials, also with '/' and '@' in the password.
    add("url-password", "postgres://app:{s}@db:5432/app", f.of(ALNUM, 8) + "/" + f.of(ALNUM, 8))
    add("url-password", "mongodb+srv://admin:{s}@cluster0.example.net/test", f.password(16))
    add("url-password", "https://user:{s}@git.example.com/repo.git", f.of(ALNUM, 20))
    add("url-password", "redis://:{s}@localhost:6379/0", f.of(ALNUM, 24))
    add("url-password", "amqp://guest:{s}@rabbit/", f.of(ALNUM, 6) + "@" + f.of(ALNUM, 6))
    add("url-query-token", "https://api.example.com/v1?access_token={s}&x=1", f.of(ALNUM, 40))
    add("url-query-token", "wss://stream.example.com/?token={s}", f.of(ALNUM, 32))
    # Prose, in several languages.
    add("prose-password", "my password is {s} btw", f.password(14))
    add("prose-password", "The password for the admin account is {s}.", f.password(14))
    add("prose-password", "Mein Passwort ist {s}", f.password(14))
    add("prose-password", "PASSWORD ist: {s}", f.password(14))
    add("prose-password", "the admin password is: '{s}'", f.password(14))
    add("prose-password", "Das Kennwort lautet {s}", f.password(14))
    add("prose-password", "mon mot de passe est {s}", f.password(14))
    add("prose-password", "mi contraseña es {s}", f.password(14))
    add("prose-password", "minha senha é {s}", f.password(14))
    add("prose-password", "mijn wachtwoord is {s}", f.password(14))
    add("prose-password", "moje hasło to {s}", f.password(14))
    add("prose-password", "密码是 {s}", f.password(14))
    add("prose-password", "パスワードは {s}", f.password(14))
    # High entropy beside a secret word.
    add("entropy-near-word", "the api key you need:\n{s}", f.of(ALNUM, 40))
    add("entropy-near-word", "Your new token (copy it now) {s}", f.of(ALNUM, 36))
    add("entropy-near-word", "secret rotated -> {s}", f.of(HEX, 40))
    add("aws-secret", "aws_secret_access_key = {s}", f.of(B64, 40))
    add("aws-secret", '{{"SecretAccessKey": "{s}"}}', f.of(B64, 40))
    return cases


def _negatives() -> list[Case]:
    f = _f
    texts = [
        "Invalid token: signature has expired",
        "Token: 4821 of 8192 used",
        "error: token expired at 2025-01-01T00:00:00Z",
        "max_tokens=4096",
        "token_count=1532",
        "usage = {'input_tokens': 120, 'output_tokens': 45}",
        "def connect(password: str) -> None:",
        "password: str",
        "token: Optional[str] = None",
        "api_key: SecretStr",
        "export GITHUB_TOKEN=$GITHUB_TOKEN",
        "token: ${{ secrets.NPM_TOKEN }}",
        "password: ${{ secrets.DB_PASSWORD }}",
        "api_key = os.environ['OPENAI_API_KEY']",
        'token = os.environ.get("TOKEN")',
        "password = getpass.getpass()",
        "secret_name: prod/db",
        "session_id: 8c3a2f1e-0d4b-4c6a-9e7f-1a2b3c4d5e6f",
        "passenger_count = 4",
        "author = 'Jane Developer'",
        "keyboard_layout = 'us'",
        "primary_key=True",
        "sort_key: created_at",
        "public_key_path: ~/.ssh/id_ed25519.pub",
        "password_file: /run/secrets/db_password",
        "DB_PASSWORD_FILE=/run/secrets/db_password",
        "tokenizer = AutoTokenizer.from_pretrained('gpt2')",
        "eos_token = '</s>'",
        "The password must be at least 12 characters long.",
        "Your password is incorrect.",
        "Enter your password:",
        "The session expired; please sign in again.",
        "Press any key to continue.",
        "Cookies help us deliver our services.",
        "Authentication failed for 'https://github.com/org/repo.git/'",
        "npm ERR! 401 Unauthorized - GET https://registry.npmjs.org/pkg",
        "ssh-keygen -t ed25519 -C dev@example.com",
        "git log --oneline -n 5",
        "ls -la ~/.ssh",
        "PWD=/home/dev/project",
        "OLDPWD=/home/dev",
        "SSH_AUTH_SOCK=/tmp/ssh-abc/agent.123",
        "TOKENIZERS_PARALLELISM=false",
        "private: true",
        "auth: required",
        "key: value",
        "passwordless = true",
        "password_hash_algorithm = 'argon2'",
        "token_type: Bearer",
        "grant_type=client_credentials",
        "Authorization: Bearer",
        'headers = {"Authorization": f"Bearer {token}"}',
        'curl -H "Authorization: Bearer $TOKEN" https://api.example.com',
        "docker login -u ci --password-stdin ghcr.io",
        "mysql -u root -p app",
        "redis-cli -h cache ping",
        "postgres://app@db:5432/app",
        "https://example.com:8443/path",
        "see https://docs.example.com/auth/tokens for details",
        "the cookie jar is at ~/.cookies",
        "Bearer tokens are described in RFC 6750.",
        "[REDACTED:password]",
        "sk-learn-compatible-estimators",
        "task-sk-1",
        "live_reload: true",
        "SKU12345 is out of stock",
        "const keyPair = await generateKeyPair();",
        "for key, value in mapping.items():",
        "if not api_key: raise ValueError('missing api key')",
        "Set OPENAI_API_KEY before running.",
        "client_id: web-frontend",
        "session.commit()",
        "self.session = requests.Session()",
        "private_network = true",
        "secretary: Alice",
        "token_limit: 100000",
        "tokens_used: 3400",
        "My password is not stored anywhere.",
        "mot de passe oublié ?",
        "password is required",
        "The password is: required",
    ]
    generated = [
        f"commit {f.of(HEX, 40)}",
        f"sha256:{f.of(HEX, 64)}",
        f"request_id={f.uuid()}",
        f"trace {f.uuid()} finished in 31 ms",
        f'"integrity": "sha512-{f.of(B64, 86)}=="',
        f"image: app@sha256:{f.of(HEX, 64)}",
        f'etag: W/"{f.of(HEX, 32)}"',
        f"checksum {f.of(HEX, 64)}  dist/app.tar.gz",
        f"git checkout {f.of(HEX, 12)}",
        f"uuid = '{f.uuid()}'",
        f"Merge pull request #{f.digits(4)} from org/feature-branch",
        f"build {f.digits(6)} passed in {f.digits(2)}s",
        f"port {f.digits(4)} already in use",
        f"-----BEGIN CERTIFICATE-----\nMIIC{f.of(B64, 60)}\n-----END CERTIFICATE-----",
        f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{f.of(B64, 43)} dev@laptop",
        f"node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/{f.of(string.ascii_lowercase, 8)}.js",
        f"/home/dev/projects/app/src/{f.of(string.ascii_lowercase, 10)}/index.ts",
        f"version: 1.{f.digits(2)}.{f.digits(1)}",
        f"duration_ms: {f.digits(5)}",
        f"Successfully installed requests-2.{f.digits(2)}.0",
    ]
    return [Case("negative", text, ()) for text in texts + generated]


POSITIVES: list[Case] = _vendor_cases() + _builtin_shapes() + _contextual()
NEGATIVES: list[Case] = _negatives()
