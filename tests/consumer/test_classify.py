import psycopg
import psycopg.errors
import pytest
from omniclaude_consumer import errors
from omniclaude_consumer.writer import classify


@pytest.mark.parametrize(
    "sqlstate",
    ["08000", "08006", "08001", "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "57014", "53100", "42P01"],
)
def test_transient_states(sqlstate: str) -> None:
    exc = psycopg.errors.lookup(sqlstate)("boom")
    assert isinstance(classify(exc), errors.DatabaseUnavailable)


@pytest.mark.parametrize("sqlstate", ["22P05", "22003", "22P02", "22021", "23514", "23502", "23505", "54000"])
def test_permanent_states(sqlstate: str) -> None:
    error = classify(psycopg.errors.lookup(sqlstate)("bad row"))
    assert isinstance(error, errors.RowRejected)
    assert error.sqlstate == sqlstate and sqlstate in str(error)


def test_errors_without_sqlstate() -> None:
    assert isinstance(classify(psycopg.OperationalError("connection lost")), errors.DatabaseUnavailable)
    assert isinstance(classify(psycopg.InterfaceError("the connection is closed")), errors.DatabaseUnavailable)
    nul = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    assert isinstance(classify(nul), errors.RowRejected)
    surrogate = UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
    assert isinstance(classify(surrogate), errors.RowRejected)


def test_the_tree_is_drawn_and_complete() -> None:
    doc = errors.__doc__ or ""
    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, errors.ConsumerError)]
    for cls in classes:
        assert cls.__name__ in doc, cls.__name__
    permanent = [c for c in classes if issubclass(c, errors.PermanentError) and c is not errors.PermanentError]
    assert sorted(c.reason for c in permanent) == sorted(errors.PERMANENT_REASONS)
    assert len(set(errors.PERMANENT_REASONS)) == len(errors.PERMANENT_REASONS)
    assert not any(issubclass(c, errors.TransientError) for c in permanent)
