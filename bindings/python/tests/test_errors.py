"""Every bad input raises the right exception class, with a code, and
changes nothing (no event, no file)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

import batchmeta as bm
from conftest import Env

P = [{"date": dt.date(2016, 10, 31)}]  # a date key: "2016-13-45" is invalid


def good() -> pd.DataFrame:
    return pd.DataFrame({"item": ["a", "b"], "price": [1.0, 2.0]})


def test_schema_mismatch_names_the_columns(env: Env) -> None:
    env.client.store_dataframe(good(), env.ns, "t", P)
    before = env.snapshot()
    other = pd.DataFrame({"item": ["a"], "cost": [1.0]})
    with pytest.raises(bm.SchemaMismatchError) as e:
        env.client.store_dataframe(other, env.ns, "t", P)
    assert "price" in str(e.value) and "cost" in str(e.value)
    assert e.value.code == "schema_mismatch"
    retyped = pd.DataFrame({"item": ["a"], "price": ["one"]})
    with pytest.raises(bm.SchemaMismatchError) as e2:
        env.client.store_dataframe(retyped, env.ns, "t", P)
    assert "price" in str(e2.value)
    assert env.snapshot() == before
    # merge adds the new column instead
    env.client.store_dataframe(
        pd.DataFrame({"item": ["a"], "price": [1.0], "cost": [2.0]}),
        env.ns,
        "t",
        P,
        schema_mode="merge",
    )
    assert "cost" in env.client.load_dataframe(env.ns, "t").columns


def bad_cases(ns: str) -> list[tuple[str, type[bm.BatchmetaError], Callable[[bm.Client], Any]]]:
    wrong_rows = pd.DataFrame({"date": ["2016-11-01"], "item": ["a"], "price": [1.0]})
    return [
        ("bad table name", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "Bad-Name", P)),
        ("bad namespace", bm.InvalidInputError, lambda c: c.load_dataframe("9ns", "t")),
        ("two partitions", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "t", ["2016-10-31", "2016-11-01"])),
        ("partitions and partition_by", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "t", P, partition_by=["item"])),
        ("rows outside the partition", bm.InvalidInputError, lambda c: c.store_dataframe(wrong_rows, ns, "t", P)),
        ("bad date", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "t", ["2016-13-45"])),
        ("unknown key", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "t", [{"day": "2016-10-31"}])),
        ("bool partition", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "t", [True])),
        ("not a frame", bm.InvalidInputError, lambda c: c.store_dataframe([1, 2], ns, "t", P)),
        ("bad expected batch", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "t", P, expected_batch="yesterday")),
        ("bad schema mode", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "t", P, schema_mode="loose")),  # type: ignore[arg-type]
        ("partition_by unknown column", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "t", partition_by=["nope"])),
        ("partition_by float key", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "new_t", partition_by=["price"])),
        ("first write without key names", bm.NotFoundError, lambda c: c.store_dataframe(good(), ns, "new_t", ["2016-10-31"])),
        ("unknown table", bm.NotFoundError, lambda c: c.load_dataframe(ns, "nope")),
        ("unknown batch", bm.NotFoundError, lambda c: c.load_dataframe(ns, "t", ["2016-10-31"], batch_id="20000101000000000000")),
        ("two versions", bm.InvalidInputError, lambda c: c.load_dataframe(ns, "t", batch_id="20000101000000000000", pin="p")),
        ("unknown column", bm.InvalidInputError, lambda c: c.load_dataframe(ns, "t", columns=["nope"])),
        ("bad filter", bm.InvalidInputError, lambda c: c.load_dataframe(ns, "t", filters=[("price", "~", 1)])),  # type: ignore[list-item]
        ("bad output", bm.InvalidInputError, lambda c: c.load_dataframe(ns, "t", output="excel")),  # type: ignore[call-overload]
        ("bad as_of", bm.InvalidInputError, lambda c: c.load_dataframe(ns, "t", as_of="last tuesday")),
        ("rollback past the first batch", bm.BatchmetaError, lambda c: c.rollback(ns, "t", ["2016-10-31"]) and c.rollback(ns, "t", ["2016-10-31"])),
        ("rollback unknown partition", bm.NotFoundError, lambda c: c.rollback(ns, "t", ["2017-01-01"])),
        ("unknown pin", bm.NotFoundError, lambda c: c.unpin(ns, "t", "nobody")),
        ("pin unknown partition", bm.NotFoundError, lambda c: c.pin(ns, "t", "p", "2017-01-01")),
        ("bad pin name", bm.InvalidInputError, lambda c: c.pin(ns, "t", "Bad Name", "2016-10-31")),
        ("publish unknown batch", bm.NotFoundError, lambda c: c.publish(ns, "t", {"2016-10-31": "20000101000000000000"})),
        ("bad metadata", bm.InvalidInputError, lambda c: c.store_dataframe(good(), ns, "t", P, metadata={"n": 1})),  # type: ignore[dict-item]
    ]


def test_bad_inputs_raise_the_right_class_and_change_nothing(env: Env) -> None:
    env.client.store_dataframe(good(), env.ns, "t", P)
    before = env.snapshot()
    wrong: list[str] = []
    for name, cls, call in bad_cases(env.ns):
        if name == "rollback past the first batch":
            continue  # changes state on its first call; checked below
        try:
            call(env.client)
            wrong.append(f"{name}: raised nothing")
        except bm.BatchmetaError as e:
            if type(e) is not cls or not e.code:
                wrong.append(f"{name}: {type(e).__name__}({e.code}): {e}")
        except Exception as e:
            wrong.append(f"{name}: {type(e).__name__}: {e}")
        if env.snapshot() != before:
            wrong.append(f"{name}: changed the catalog or the warehouse")
    assert not wrong, "\n".join(wrong)


def test_rollback_past_the_first_batch_changes_nothing(env: Env) -> None:
    env.client.store_dataframe(good(), env.ns, "t", P)
    before = env.snapshot()
    with pytest.raises(bm.BatchmetaError) as e:
        env.client.rollback(env.ns, "t", ["2016-10-31"])
    assert isinstance(e.value, (bm.InvalidInputError, bm.NotFoundError, bm.ConflictError)), e.value
    assert env.snapshot() == before


def test_a_database_that_is_down_is_unavailable_not_a_bug(tmp_path: Any) -> None:
    with pytest.raises(bm.UnavailableError) as e:
        c = bm.Client("postgres://nobody@127.0.0.1:1/db", warehouse=str(tmp_path / "wh"))
        c.namespaces()
    assert e.value.code == "database_unavailable"
    assert "127.0.0.1:1" in str(e.value)
    assert "call again" in str(e.value) and "meta " not in str(e.value), str(e.value)


def test_exception_classes() -> None:
    assert issubclass(bm.InvalidInputError, ValueError)
    assert issubclass(bm.PermissionError, PermissionError)
    for cls in [bm.NotFoundError, bm.ConflictError, bm.SchemaMismatchError, bm.InvalidInputError, bm.PermissionError, bm.AlreadyExistsError, bm.UnavailableError, bm.InsufficientStorageError]:
        assert issubclass(cls, bm.BatchmetaError)
    e = bm.ConflictError("lost", current_batch="20161102234252123456")
    assert e.code == "conflict" and e.current_batch == "20161102234252123456"
