"""Vendor tokens recognised by their shape: one row per rule, as data.

Each rule is (id, pattern, keywords, positive, negative):

- ``pattern`` matches the whole token (a group named ``v``, when present, is the secret and the rest of
  the match is kept);
- ``keywords`` are lower-case literals, one of which every match holds: the pre-filter that lets a text
  skip the rule after one look (the idea of gitleaks' ``keywords``);
- ``positive`` is a text the rule must redact and ``negative`` a near miss it must keep. The tests
  generate one case from each, so a rule never ships without both.

The families follow gitleaks' default rule set (``cmd/generate/config/rules/``) and detect-secrets'
plugins, for the vendors whose tokens have a prefix or shape of their own. Tokens with no shape (a bare
32-character hex string) are left to the keyword and entropy detectors, which look at the name beside
the value. Examples are assembled from repeated pieces: they are not real credentials.
"""

from __future__ import annotations

from typing import NamedTuple

# Not preceded by a character that would make the token part of a longer word (an escaped newline
# or tab before it, as in JSON text, is fine).
TOKEN_START = r"(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))"
_B = TOKEN_START
# Not followed by one.
_E = r"(?![A-Za-z0-9_])"


class VendorRule(NamedTuple):
    """One shape rule with its own examples."""

    id: str
    pattern: str
    keywords: tuple[str, ...]
    positive: str
    negative: str


def _r(piece: str, length: int) -> str:
    """``piece`` repeated to ``length`` characters: an example body that is obviously not real."""
    return (piece * (length // len(piece) + 1))[:length]


H = "0f1e2d3c4b5a6978"  # hex
A = "aB3dE5gH7jK9mN1p"  # alphanumeric
L = "a1b2c3d4e5f6g7h8"  # lower-case alphanumeric
U = "A1B2C3D4E5F6G7H8"  # upper-case alphanumeric
B = "aB3+dE5/gH7jK9mN"  # base64

VENDOR_RULES: tuple[VendorRule, ...] = (
    VendorRule(
        "age-secret-key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        ("age-secret-key-1",),
        "key: AGE-SECRET-KEY-1" + _r("QPZRY9X8GF", 58),
        "AGE-SECRET-KEY-1 is the prefix of an age identity",
    ),
    VendorRule(
        "adobe-client-secret", _B + r"p8e-[A-Za-z0-9_-]{32}" + _E, ("p8e-",), "ADOBE=p8e-" + _r(A, 32), "p8e-short"
    ),
    VendorRule(
        "alibaba-access-key", _B + r"LTAI[A-Za-z0-9]{20}" + _E, ("ltai",), "id LTAI" + _r(A, 20), "LTAIGNORED words"
    ),
    VendorRule(
        "airtable-pat",
        _B + r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}" + _E,
        ("pat",),
        "pat" + _r(A, 14) + "." + _r(H, 64),
        "pattern.matches()",
    ),
    VendorRule(
        "atlassian-api-token", _B + r"ATATT3[A-Za-z0-9_=-]{150,}", ("atatt3",), "ATATT3" + _r(A, 180), "ATATT3 alone"
    ),
    VendorRule(
        "azure-ad-client-secret",
        _B + r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}" + _E,
        ("q~",),
        "secret abc8Q~" + _r(A, 34),
        "Q~ in prose",
    ),
    VendorRule("clojars-token", r"CLOJARS_[a-z0-9]{60}", ("clojars_",), "CLOJARS_" + _r(L, 60), "CLOJARS_USERNAME=me"),
    VendorRule(
        "cloudflare-origin-ca-key",
        r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}",
        ("v1.0-",),
        "v1.0-" + _r(H, 24) + "-" + _r(H, 146),
        "v1.0-beta release",
    ),
    VendorRule(
        "databricks-token",
        _B + r"dapi[a-f0-9]{32}(?:-\d)?" + _E,
        ("dapi",),
        "DATABRICKS=dapi" + _r(H, 32),
        "dapi endpoint",
    ),
    VendorRule(
        "digitalocean-token",
        _B + r"do[opr]_v1_[a-f0-9]{64}" + _E,
        ("dop_v1_", "doo_v1_", "dor_v1_"),
        "dop_v1_" + _r(H, 64),
        "dop_v1_ prefix",
    ),
    VendorRule(
        "defined-networking-key",
        r"dnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52}",
        ("dnkey-",),
        "dnkey-" + _r(L, 26) + "-" + _r(L, 52),
        "dnkey-abc",
    ),
    VendorRule(
        "doppler-token",
        _B + r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9._-]{40,}",
        ("dp.",),
        "dp.pt." + _r(A, 43),
        "dp.pt.short",
    ),
    VendorRule(
        "duffel-token",
        r"duffel_(?:test|live)_[A-Za-z0-9_=-]{43}",
        ("duffel_",),
        "duffel_test_" + _r(A, 43),
        "duffel_test_x",
    ),
    VendorRule(
        "dynatrace-token",
        r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}",
        ("dt0c01.",),
        "dt0c01." + _r(U, 24) + "." + _r(A, 64),
        "dt0c01.abc",
    ),
    VendorRule("easypost-key", _B + r"EZ[AT]K[A-Za-z0-9]{54}", ("ezak", "eztk"), "EZAK" + _r(A, 54), "EZAK123"),
    VendorRule(
        "flutterwave-key",
        r"FLW(?:SECK|PUBK)(?:_TEST)?-[a-hA-H0-9]{32}-X",
        ("flwseck", "flwpubk"),
        "FLWSECK_TEST-" + _r(H, 32) + "-X",
        "FLWSECK_TEST-abc-X",
    ),
    VendorRule("frameio-token", r"fio-u-[A-Za-z0-9_=-]{64}", ("fio-u-",), "fio-u-" + _r(A, 64), "fio-u-short"),
    VendorRule(
        "gocardless-token",
        _B + r"live_[A-Za-z0-9_=-]{40}" + _E,
        ("live_",),
        "GOCARDLESS=live_" + _r(A, 40),
        "live_stream_enabled",
    ),
    VendorRule(
        "grafana-cloud-token", _B + r"glc_[A-Za-z0-9+/]{32,400}={0,2}", ("glc_",), "glc_" + _r(B, 60), "glc_short"
    ),
    VendorRule(
        "grafana-service-account",
        _B + r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
        ("glsa_",),
        "glsa_" + _r(A, 32) + "_" + _r(H, 8),
        "glsa_short",
    ),
    VendorRule(
        "grafana-api-key", _B + r"eyJrIjoi[A-Za-z0-9]{60,400}={0,2}", ("eyjrijoi",), "eyJrIjoi" + _r(A, 70), "eyJrIjoi"
    ),
    VendorRule(
        "harness-token",
        _B + r"(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
        ("pat.", "sat."),
        "pat." + _r(A, 22) + "." + _r(A, 24) + "." + _r(A, 20),
        "pat.name",
    ),
    VendorRule(
        "terraform-cloud-token",
        r"[a-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}",
        ("atlasv1",),
        _r(L, 14) + ".atlasv1." + _r(A, 67),
        "atlasv1 is a prefix",
    ),
    VendorRule(
        "vault-token",
        _B + r"(?:hvs|hvb|hvr)\.[A-Za-z0-9_-]{24,}",
        ("hvs.", "hvb.", "hvr."),
        "VAULT_TOKEN=hvs." + _r(A, 24),
        "hvs.short",
    ),
    VendorRule(
        "huggingface-org-token", _B + r"api_org_[A-Za-z0-9]{34}", ("api_org_",), "api_org_" + _r(A, 34), "api_org_name"
    ),
    VendorRule("infracost-token", _B + r"ico-[A-Za-z0-9]{32}" + _E, ("ico-",), "ico-" + _r(A, 32), "ico-file"),
    VendorRule("intra42-secret", r"s-s4t2(?:ud|af)-[a-f0-9]{64}", ("s-s4t2",), "s-s4t2ud-" + _r(H, 64), "s-s4t2ud-abc"),
    VendorRule("linear-api-key", r"lin_api_[A-Za-z0-9]{40}", ("lin_api_",), "lin_api_" + _r(A, 40), "lin_api_docs"),
    VendorRule("mailchimp-key", _B + r"[0-9a-f]{32}-us\d{1,2}" + _E, ("-us",), "MC=" + _r(H, 32) + "-us12", "en-us1"),
    VendorRule("mailgun-key", _B + r"(?:pub)?key-[a-f0-9]{32}" + _E, ("key-",), "key-" + _r(H, 32), "key-value store"),
    VendorRule(
        "mapbox-secret-token",
        _B + r"sk\.eyJ[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{20,}",
        ("sk.eyj",),
        "sk.eyJ" + _r(A, 60) + "." + _r(A, 22),
        "sk.eyJ",
    ),
    VendorRule(
        "newrelic-key",
        _B + r"NR(?:AK|AA|II|JS)-[A-Za-z0-9-]{19,32}" + _E,
        ("nrak-", "nraa-", "nrii-", "nrjs-"),
        "NRAK-" + _r(U, 27),
        "NRAK-1",
    ),
    VendorRule("openshift-token", r"sha256~[A-Za-z0-9_-]{43}", ("sha256~",), "sha256~" + _r(A, 43), "sha256~short"),
    VendorRule(
        "planetscale-token",
        r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9=._-]{32,64}",
        ("pscale_",),
        "pscale_tkn_" + _r(A, 43),
        "pscale_tkn_x",
    ),
    VendorRule(
        "postman-key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", ("pmak-",), "PMAK-" + _r(H, 24) + "-" + _r(H, 34), "PMAK-123"
    ),
    VendorRule("prefect-key", _B + r"pnu_[A-Za-z0-9]{36}", ("pnu_",), "pnu_" + _r(A, 36), "pnu_short"),
    VendorRule("pulumi-token", _B + r"pul-[a-f0-9]{40}", ("pul-",), "pul-" + _r(H, 40), "pul-request"),
    VendorRule("readme-key", _B + r"rdme_[a-z0-9]{70}", ("rdme_",), "rdme_" + _r(L, 70), "rdme_short"),
    VendorRule("rubygems-key", _B + r"rubygems_[a-f0-9]{48}", ("rubygems_",), "rubygems_" + _r(H, 48), "rubygems_org"),
    VendorRule("scalingo-token", _B + r"tk-us-[A-Za-z0-9_-]{48}", ("tk-us-",), "tk-us-" + _r(A, 48), "tk-us-x"),
    VendorRule(
        "sendgrid-key",
        _B + r"SG\.[A-Za-z0-9_-]{20,24}\.[A-Za-z0-9_-]{39,50}",
        ("sg.",),
        "SG." + _r(A, 22) + "." + _r(A, 43),
        "SG.example",
    ),
    VendorRule(
        "brevo-key",
        r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}",
        ("xkeysib-",),
        "xkeysib-" + _r(H, 64) + "-" + _r(A, 16),
        "xkeysib-abc",
    ),
    VendorRule(
        "sentry-token",
        _B + r"sntr(?:ys_eyJ[A-Za-z0-9+/=_-]{40,}|yu_[a-f0-9]{64})",
        ("sntrys_", "sntryu_"),
        "sntryu_" + _r(H, 64),
        "sntryu_short",
    ),
    VendorRule(
        "sentry-dsn",
        r"https?://(?P<v>[a-f0-9]{32})(?::[a-f0-9]{32})?@[A-Za-z0-9.-]*sentry",
        ("sentry",),
        "dsn https://" + _r(H, 32) + "@o1.ingest.sentry.io/2",
        "https://sentry.io/welcome",
    ),
    VendorRule(
        "shippo-token", r"shippo_(?:live|test)_[a-f0-9]{40}", ("shippo_",), "shippo_live_" + _r(H, 40), "shippo_live_x"
    ),
    VendorRule(
        "shopify-token",
        _B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
        ("shpat_", "shpca_", "shppa_", "shpss_"),
        "shpat_" + _r(H, 32),
        "shpat_x",
    ),
    VendorRule(
        "square-token",
        _B + r"(?:EAAA|sq0atp-)[A-Za-z0-9_-]{22,60}|sq0csp-[A-Za-z0-9_-]{43}",
        ("eaaa", "sq0atp-", "sq0csp-"),
        "sq0atp-" + _r(A, 22),
        "EAAA",
    ),
    VendorRule(
        "telegram-bot-token", _B + r"\d{8,10}:AA[A-Za-z0-9_-]{33}" + _E, (":aa",), "1234567890:AA" + _r(A, 33), "12:AA"
    ),
    VendorRule("twilio-api-key", _B + r"SK[0-9a-fA-F]{32}" + _E, ("sk",), "SK" + _r(H, 32), "SKU12345"),
    VendorRule("typeform-token", _B + r"tfp_[A-Za-z0-9_.=-]{59}", ("tfp_",), "tfp_" + _r(A, 59), "tfp_x"),
    VendorRule(
        "yandex-key",
        _B + r"AQVN[A-Za-z0-9_-]{35,38}|YC[A-Za-z0-9_-]{38}" + _E,
        ("aqvn", "yc"),
        "AQVN" + _r(A, 36),
        "AQVN",
    ),
    VendorRule(
        "onepassword-token", _B + r"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}", ("ops_eyj",), "ops_eyJ" + _r(A, 260), "ops_eyJ"
    ),
    VendorRule(
        "onepassword-secret-key",
        r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
        ("a3-",),
        "A3-ABC123-DEF456GHI78-JK901-LM234-NO567",
        "A3-paper",
    ),
    VendorRule(
        "artifactory-token", _B + r"AKC[A-Za-z0-9]{60,}|AKCp[A-Za-z0-9]{40,}", ("akc",), "AKCp" + _r(A, 69), "AKCP-1"
    ),
    VendorRule(
        "discord-webhook",
        r"discord(?:app)?\.com/api/webhooks/\d+/(?P<v>[A-Za-z0-9_-]{60,})",
        ("discord",),
        "https://discord.com/api/webhooks/123456789012345678/" + _r(A, 68),
        "discord.com/api/webhooks/ docs",
    ),
    VendorRule(
        "discord-bot-token",
        r"(?i:discord)[^\r\n]{0,60}?"
        + _B
        + r"(?P<v>[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})"
        + _E,
        ("discord",),
        "discord bot token MTE" + _r(A, 21) + "." + _r(A, 6) + "." + _r(A, 27),
        "bot Mr.Smith",
    ),
    VendorRule("facebook-token", _B + r"EAA[MC][A-Za-z0-9]{100,}", ("eaam", "eaac"), "EAAC" + _r(A, 120), "EAAC"),
    VendorRule("heroku-token", _B + r"HRKU-AA[A-Za-z0-9_-]{58}", ("hrku-",), "HRKU-AA" + _r(A, 58), "HRKU-AA"),
    VendorRule(
        "hubspot-token",
        r"pat-(?:na|eu)1-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}",
        ("pat-na1-", "pat-eu1-"),
        "pat-na1-0f1e2d3c-4b5a-6978-0f1e-2d3c4b5a6978",
        "pat-na1-x",
    ),
    VendorRule(
        "launchdarkly-key",
        _B + r"(?:api|sdk|mob)-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}",
        ("api-", "sdk-", "mob-"),
        "sdk-0f1e2d3c-4b5a-6978-0f1e-2d3c4b5a6978",
        "sdk-version",
    ),
    VendorRule("octopus-key", _B + r"API-[A-Z0-9]{26}" + _E, ("api-",), "API-" + _r(U, 26), "API-Version"),
    VendorRule(
        "gitlab-runner-token", r"GR1348941[A-Za-z0-9_-]{20}", ("gr1348941",), "GR1348941" + _r(A, 20), "GR1348941"
    ),
    VendorRule("groq-key", _B + r"gsk_[A-Za-z0-9]{52}", ("gsk_",), "gsk_" + _r(A, 52), "gsk_x"),
    VendorRule(
        "langsmith-key",
        _B + r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}",
        ("lsv2_",),
        "lsv2_pt_" + _r(H, 32) + "_" + _r(H, 10),
        "lsv2_pt_x",
    ),
    VendorRule("perplexity-key", _B + r"pplx-[A-Za-z0-9]{48}", ("pplx-",), "pplx-" + _r(A, 48), "pplx-api"),
    VendorRule("xai-key", _B + r"xai-[A-Za-z0-9]{70,}", ("xai-",), "xai-" + _r(A, 80), "xai-grok"),
    VendorRule("replicate-token", _B + r"r8_[A-Za-z0-9]{37}" + _E, ("r8_",), "r8_" + _r(A, 37), "r8_x"),
    VendorRule(
        "notion-token",
        _B + r"(?:secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35})" + _E,
        ("secret_", "ntn_"),
        "secret_" + _r(A, 43),
        "secret_name",
    ),
    VendorRule("figma-token", _B + r"figd_[A-Za-z0-9_-]{40,}", ("figd_",), "figd_" + _r(A, 40), "figd_x"),
    VendorRule(
        "flyio-token",
        _B + r"(?:fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})",
        ("fo1_", "fm1", "fm2"),
        "fo1_" + _r(A, 43),
        "fo1_x",
    ),
    VendorRule("render-key", _B + r"rnd_[A-Za-z0-9]{32}" + _E, ("rnd_",), "rnd_" + _r(A, 32), "rnd_seed"),
    VendorRule(
        "supabase-key",
        _B + r"(?:sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{20,})",
        ("sbp_", "sb_secret_"),
        "sbp_" + _r(H, 40),
        "sbp_x",
    ),
    VendorRule("netlify-token", _B + r"nfp_[A-Za-z0-9]{36}", ("nfp_",), "nfp_" + _r(A, 36), "nfp_x"),
    VendorRule("buildkite-token", _B + r"bkua_[a-f0-9]{40}", ("bkua_",), "bkua_" + _r(H, 40), "bkua_x"),
    VendorRule(
        "circleci-token",
        r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}",
        ("ccipat_",),
        "CCIPAT_" + _r(A, 22) + "_" + _r(H, 40),
        "CCIPAT_x",
    ),
    VendorRule("dropbox-token", _B + r"sl\.[A-Za-z0-9_-]{130,}", ("sl.",), "sl." + _r(A, 140), "sl.no"),
    VendorRule(
        "docker-token", _B + r"dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,}", ("dckr_",), "dckr_pat_" + _r(A, 27), "dckr_pat_x"
    ),
    VendorRule("nuget-key", _B + r"oy2[a-z0-9]{43}" + _E, ("oy2",), "oy2" + _r(L, 43), "oy2x"),
    VendorRule("pinecone-key", _B + r"pcsk_[A-Za-z0-9_]{50,}", ("pcsk_",), "pcsk_" + _r(A, 60), "pcsk_x"),
    VendorRule("aws-bedrock-key", _B + r"ABSK[A-Za-z0-9+/]{100,}={0,2}", ("absk",), "ABSK" + _r(B, 120), "ABSK"),
    VendorRule("google-oauth-secret", _B + r"GOCSPX-[A-Za-z0-9_-]{28}", ("gocspx-",), "GOCSPX-" + _r(A, 28), "GOCSPX-"),
    VendorRule(
        "google-oauth-token",
        _B + r"(?:ya29\.[A-Za-z0-9_-]{20,}|1//0[A-Za-z0-9_-]{40,})",
        ("ya29.", "1//0"),
        "ya29." + _r(A, 60),
        "ya29.short",
    ),
    VendorRule(
        "razorpay-key", _B + r"rzp_(?:live|test)_[A-Za-z0-9]{14}", ("rzp_",), "rzp_live_" + _r(A, 14), "rzp_live_x"
    ),
    VendorRule("contentful-token", _B + r"CFPAT-[A-Za-z0-9_-]{43}", ("cfpat-",), "CFPAT-" + _r(A, 43), "CFPAT-x"),
    VendorRule(
        "ansible-vault",
        r"\$ANSIBLE_VAULT;[0-9.]+;AES256(?:;[A-Za-z0-9_-]+)?\s+(?P<v>[0-9a-f\s]{32,})",
        ("$ansible_vault",),
        "$ANSIBLE_VAULT;1.1;AES256\n" + _r(H, 80),
        "$ANSIBLE_VAULT format",
    ),
    VendorRule(
        "tailscale-key",
        _B + r"tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]+-[A-Za-z0-9]+",
        ("tskey-",),
        "tskey-auth-" + _r(A, 12) + "-" + _r(A, 30),
        "tskey-auth",
    ),
    VendorRule(
        "maxmind-key",
        _B + r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk" + _E,
        ("_mmk",),
        _r(A, 6) + "_" + _r(A, 29) + "_mmk",
        "x_mmk",
    ),
    VendorRule(
        "azure-storage-key",
        r"AccountKey=(?P<v>[A-Za-z0-9+/]{86,88}={0,2})",
        ("accountkey=",),
        "AccountKey=" + _r(B, 86) + "==",
        "AccountKey=<your key>",
    ),
    VendorRule(
        "azure-sas-signature",
        r"[?&]sig=(?P<v>[A-Za-z0-9%+/]{40,}(?:=|%3[Dd]){0,2})",
        ("sig=",),
        "https://a.blob.core.windows.net/c?sv=2022&sig=" + _r(B, 43) + "%3D",
        "?sig=short",
    ),
    VendorRule(
        "ibm-cos-hmac",
        _B + r"(?:cos_hmac_keys|secret_access_key)[\"']?\s*[:=]\s*[\"']?(?P<v>[a-f0-9]{48})",
        ("hmac", "secret_access_key"),
        "cos_hmac_keys: " + _r(H, 48),
        "cos_hmac_keys: none",
    ),
)
