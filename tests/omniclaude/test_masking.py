import pytest
from omniclaude.masking import mask_url, url_passwords


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
