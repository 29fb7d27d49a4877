"""The hidden corpus: cases written before the rules and never used to tune them.

`test_hidden_recall` measures the rules against these cases and reports the recall; it does not demand
100%. The README quotes the figure. Do not edit these cases to make the rules look better: add new
shapes to `corpus.py` (and rules for them) instead.
"""

from __future__ import annotations

from tests.omniclaude.redact.fakes import ALNUM, B64, HEX, LOWER_ALNUM, UPPER_ALNUM, URLSAFE, Case, Fakes

_f = Fakes("hidden")


def _positives() -> list[Case]:
    f = _f
    cases: list[tuple[str, str, str]] = []

    def add(family: str, template: str, secret: str) -> None:
        cases.append((family, template.format(s=secret), secret))

    add("odbc", "Driver={{ODBC Driver 18}};Server=db;Uid=app;Pwd={s};Encrypt=yes", f.password(16))
    add("connection-string", "Server=tcp:db.example.net;Database=app;User Id=sa;Password={s};", f.password(15))
    add(
        "azure-storage", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={s};EndpointSuffix=core", f.b64(64)
    )
    add("azure-sas", "https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&sig={s}", f.of(B64, 43) + "%3D")
    add("query-token", "GET /api/v1/items?access_token={s}&page=2", f.of(ALNUM, 40))
    add("query-apikey", "curl 'https://api.example.com/v2/data?api_key={s}&q=x'", f.of(HEX, 32))
    add(
        "json-private-key",
        '{{"type": "service_account", "private_key": '
        '"-----BEGIN PRIVATE KEY-----\\n{s}\\n-----END PRIVATE KEY-----\\n"}}',
        f.of(B64, 120),
    )
    add("docker-pat", "DOCKERHUB_TOKEN=dckr_pat_{s}", f.of(URLSAFE, 27))
    add("grafana-sa", "grafana token glsa_{s}_{s}", f.of(ALNUM, 32))
    add("shopify", "X-Shopify-Access-Token: shpat_{s}", f.of(HEX, 32))
    add("sendgrid", "SENDGRID=SG.{s}", f.of(URLSAFE, 22) + "." + f.of(URLSAFE, 43))
    add("aws-credentials-file", "[default]\naws_access_key_id = AKIA{s}\n", f.of(UPPER_ALNUM, 16))
    add("aws-credentials-file", "[prod]\naws_secret_access_key={s}\nregion=us-east-1", f.of(B64, 40))
    add("heroku", "HEROKU_API_KEY={s}", f.uuid())
    add("prose-de", "Mein Passwort ist {s} bitte nicht weitergeben", f.password(13))
    add("prose-fr", "le mot de passe est {s} pour le serveur", f.password(13))
    add("prose-es", "la contraseña es {s} para la base", f.password(13))
    add("prose-en", "fyi the password is {s}", f.password(13))
    add("prose-en", "Use passphrase {s} to unlock the vault", f.password(16))
    add("redis-url", "REDIS_URL=rediss://:{s}@cache.internal:6380/0", f.of(ALNUM, 24))
    add("git-oauth-url", "git clone https://oauth2:{s}@gitlab.example.com/group/repo.git", f.of(URLSAFE, 26))
    add("npmrc", "//registry.npmjs.org/:_authToken={s}", f.uuid())
    add("npmrc", "_auth={s}", f.b64(24))
    add("sshpass", "sshpass -p '{s}' ssh deploy@10.0.0.5", f.password(14))
    add("htpasswd", "htpasswd -b -c .htpasswd admin {s}", f.password(14))
    add("mysql", "mysql -uroot -p{s} -h 127.0.0.1 app", f.password(14))
    add("pgpassword", "PGPASSWORD={s} psql -h db -U app", f.password(14))
    add("kubectl", "kubectl create secret generic db --from-literal=password={s}", f.password(14))
    add("openssl", "openssl enc -aes-256-cbc -in a -out b -pass pass:{s}", f.password(14))
    add("curl-basic", "curl -u admin:{s} https://jenkins.local/api/json", f.password(14))
    add("wget", "wget --user=ci --password={s} https://files.local/x.tgz", f.password(14))
    add("set-cookie", "Set-Cookie: sessionid={s}; Path=/; HttpOnly", f.of(LOWER_ALNUM, 32))
    add("jdbc", "jdbc:mysql://db:3306/app?user=app&password={s}&useSSL=true", f.password(14))
    add("x-api-key", "-H 'X-API-Key: {s}'", f.of(ALNUM, 32))
    add("vault", "export VAULT_TOKEN=hvs.{s}", f.of(URLSAFE, 24))
    add("xml-attr", '<add key="SmtpPassword" value="{s}" />', f.password(14))
    add("xml-elem", "<ConnectionPassword>{s}</ConnectionPassword>", f.password(14))
    add("php", "define('AUTH_SALT', '{s}');", f.of(ALNUM + "!@#$%^&*()", 64))
    add("php", "'password' => '{s}',", f.password(14))
    add("ruby", 'config.secret_key_base = "{s}"', f.of(HEX, 128))
    add("python", 'client = Client(api_secret="{s}")', f.of(ALNUM, 30))
    add("toml", '[database]\npassword = "{s}"', f.password(14))
    add("yaml-nested", "spring:\n  datasource:\n    password: {s}\n", f.password(14))
    add("k8s-secret", "apiVersion: v1\nkind: Secret\ndata:\n  DB_PASS: {s}\n", f.b64(18))
    add(
        "kubeconfig",
        "users:\n- name: admin\n  user:\n    client-key-data: {s}\n",
        "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo" + f.of(B64, 200),
    )
    add("pem-body", "here is the key body:\n{s}\n", f.pem_body(5))
    add("openssh-body", "b3BlbnNzaC1rZXktdjEAAAAA{s}", f.of(B64, 200))
    add("auth-scheme", 'Authorization: Digest username="u", response="{s}"', f.of(HEX, 32))
    add("auth-scheme", "authorization: SSWS {s}", f.of(URLSAFE, 42))
    add("url-slash", "postgres://app:{s}@db:5432/app", f.of(ALNUM, 10) + "/" + f.of(ALNUM, 8))
    add("netrc", "machine api.example.com\n  login bot\n  password {s}\n", f.password(14))
    add("pgpass", "db.example.com:5432:app:appuser:{s}", f.password(14))
    add("sudo", "echo '{s}' | sudo -S apt-get update", f.password(14))
    add("docker-login", "docker login -u ci -p {s} registry.example.com", f.password(14))
    add("redis-cli", "redis-cli -h cache -a {s} ping", f.password(14))
    add("telegram", "bot = Bot('{s}')", f.digits(10) + ":AA" + f.of(URLSAFE, 33))
    add("discord-webhook", "https://discord.com/api/webhooks/{s}", f.digits(18) + "/" + f.of(URLSAFE, 68))
    add("twilio", "TWILIO_AUTH_TOKEN={s}", f.of(HEX, 32))
    add("mailgun", "MAILGUN_KEY=key-{s}", f.of(HEX, 32))
    add("datadog", "DD_API_KEY={s}", f.of(HEX, 32))
    add("linear", "lin_api_{s}", f.of(ALNUM, 40))
    add("doppler", "DOPPLER_TOKEN=dp.st.prd.{s}", f.of(ALNUM, 40))
    add("planetscale", "pscale_tkn_{s}", f.of(URLSAFE, 43))
    add("postman", "PMAK-{s}", f.of(HEX, 24) + "-" + f.of(HEX, 34))
    add("age", "AGE-SECRET-KEY-1{s}", f.of("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58))
    add("newrelic", "NEW_RELIC_LICENSE=NRAK-{s}", f.of(UPPER_ALNUM, 27))
    add("entropy-near-word", "the signing secret for prod is\n  {s}", f.of(ALNUM, 40))
    add("env-glued", "MYAPPSECRET={s}", f.of(ALNUM, 24))
    add("cli-flag", "terraform apply -var db_pass={s}", f.password(14))
    add("cli-flag", "./deploy --api-token {s}", f.of(ALNUM, 36))
    add("powershell", '$env:ADMIN_PWD = "{s}"', f.password(14))
    add("header-list", '[["Content-Type", "application/json"], ["X-Auth-Token", "{s}"]]', f.of(ALNUM, 32))
    add("name-value", '[{{"name": "STRIPE_SECRET", "value": "{s}"}}]', f.of(ALNUM, 30))
    return [Case(family, text, (secret,)) for family, text, secret in cases]


def _negatives() -> list[Case]:
    f = _f
    texts = [
        "Error: Invalid token: signature has expired",
        "Token: 4821 of 8192 used",
        "response = client.create(max_tokens=1024, temperature=0)",
        "def login(username: str, password: str) -> bool:",
        "env:\n  GH_TOKEN: ${{ secrets.GH_TOKEN }}",
        "token = os.environ['API_TOKEN']",
        f"commit {f.of(HEX, 40)}\nAuthor: Dev <dev@example.com>",
        f"session_id: {f.uuid()}",
        f'"integrity": "sha512-{f.of(B64, 86)}=="',
        f"image: nginx@sha256:{f.of(HEX, 64)}",
        "the session expired, please sign in again",
        "Press any key to continue",
        "tokens = tokenizer.encode(text)",
        "passenger_count = 3",
        "author: Jane Doe",
        "id = Column(Integer, primary_key=True)",
        "--token-file /var/run/secrets/token",
        "password = getpass.getpass('Password: ')",
        "if not api_key:\n    raise ValueError('missing api key')",
        "Set the OPENAI_API_KEY environment variable first.",
        "ssh-keygen -t ed25519 -C dev@example.com",
        "The cookie banner is shown once per session.",
        "PWD=/home/dev/project",
        "keyboard layout: us",
        "git push origin main",
        f"request_id={f.uuid()} status=200 duration=31ms",
        "export GITHUB_TOKEN=$GITHUB_TOKEN",
        "auth: required",
        "private: true",
        "npm ERR! code E401 Unable to authenticate, need: Basic realm",
    ]
    return [Case("negative", text, ()) for text in texts]


POSITIVES: list[Case] = _positives()
NEGATIVES: list[Case] = _negatives()
