import pytest
from omniclaude.config import Settings
from omniclaude.masking import configured_secrets, mask_text, mask_url, scrub, url_passwords


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u:p%40ss@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h/db?user=u&password=pw", "postgresql://h/db?user=u&password=***"),
        ("postgresql://h/db?password=p&sslmode=require", "postgresql://h/db?password=***&sslmode=require"),
        ("host=h user=u password=pw dbname=d", "host=h user=u password=*** dbname=d"),
        ("host=h password='p w' dbname=d", "host=h password=*** dbname=d"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_url(url: str | None, masked: str) -> None:
    assert mask_url(url) == masked


def test_url_passwords() -> None:
    assert url_passwords("host=h password='p w' x=1 PASSWORD=q") == ["p w", "q"]
    assert url_passwords("postgresql://u:p%40ss@h/db") == ["p%40ss", "p@ss"]
    assert url_passwords("postgresql://u@h/db") == url_passwords(None) == []


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("http://h:8080/health?token=abc&x=1", "http://h:8080/health?token=***&x=1"),
        ("postgresql://u@h/db?sslpassword=s&sslmode=require", "postgresql://u@h/db?sslpassword=***&sslmode=require"),
        ("https://h/x?api_key=k1;sig=s2", "https://h/x?api_key=***;sig=***"),
        ("postgresql://u:s3cr/et@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:s3cret@[::1/db", "postgresql://u:***@[::1/db"),
        ("postgresql://u:a b@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p?ss#x@h/db", "postgresql://u:***@h/db"),
        ("https://ghp_0123456789abcdefghij@github.com/x", "https://***@github.com/x"),
        ("https://host/users/@me", "https://host/users/@me"),
    ],
)
def test_mask_url_query_strings_and_malformed_urls(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_text_finds_every_url_and_parameter() -> None:
    text = "bad URI: \"postgresql://u:pw1@[::1/db\" and http://x:pw2@h/ then token=pw3 password='p w4'"
    masked = mask_text(text)
    assert masked == 'bad URI: "postgresql://u:***@[::1/db" and http://x:***@h/ then token=*** password=***'


def test_url_passwords_covers_query_and_malformed_forms() -> None:
    assert url_passwords("postgresql://u:s3cr/et@h/db") == ["s3cr/et"]
    assert url_passwords("http://h/x?token=t0k&sslpassword=p%2Fw") == ["p%2Fw", "p/w", "t0k"]
    assert url_passwords("postgresql://u:pw@[::1/db") == ["pw"]


def test_scrub_masks_then_replaces_known_secrets() -> None:
    assert scrub("failed for hunter22 at postgresql://u:x@h", ["hunter22"]) == "failed for *** at postgresql://u:***@h"


def test_configured_secrets_of_a_client_configuration() -> None:
    settings = Settings(
        kafka_sasl_password="sasl1", database_url="postgresql://u:db1@h/d", health_url="http://h/health?token=tok1"
    )
    assert set(configured_secrets(settings)) == {"sasl1", "db1", "tok1"}


def test_names_of_files_and_ids_are_not_secrets_and_a_list_separator_ends_a_value() -> None:
    text = "Settings(kafka_ssl_keyfile='/k.pem', kafka_sasl_password=pw1, passfile=/p, x=1)"
    assert mask_text(text) == "Settings(kafka_ssl_keyfile='/k.pem', kafka_sasl_password=***, passfile=/p, x=1)"
