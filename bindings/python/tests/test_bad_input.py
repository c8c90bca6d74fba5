"""The bad-input corpus through the Python API (embedded, remote, remote with
uploads through the server): every case raises its typed exception with its
code, and after every case the catalog's row counts, its newest event id and
the warehouse listing are unchanged. Each run ends with `meta verify`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import batchmeta as bm
from catalogs import catalog_rows, meta
from conftest import Env

US = {"date": dt.date(2016, 10, 31), "region": "us"}
EU = {"date": dt.date(2016, 10, 31), "region": "eu"}

Case = tuple[str, type[bm.BatchmetaError], str, Callable[[bm.Client], Any]]


def frame() -> pd.DataFrame:
    return pd.DataFrame({"item": ["a", "b"], "price": [1.0, 2.0]})


def state(env: Env) -> tuple[dict[str, int], int | None, list[tuple[str, int]]]:
    """Row counts of every catalog table, the newest event id, every file."""
    rows, max_event = catalog_rows(env.warehouse.parent / "catalog.db")
    files = sorted((str(p), p.stat().st_size) for p in env.warehouse.rglob("*") if p.is_file())
    return rows, max_event, files


BAD_NAMES = [
    ("dotdot", ".."),
    ("traversal", "../../etc"),
    ("slash", "a/b"),
    ("backslash", "a\\b"),
    ("percent-encoded dotdot", "%2e%2e"),
    ("double-encoded dotdot", "%252e%252e"),
    ("nul", "a\0b"),
    ("newline", "a\nb"),
    ("fullwidth look-alike", "ｓａｌｅｓ"),
    ("cyrillic look-alike", "ѕales"),
    ("zero-width space", "sa\u200bles"),
    ("10,000 characters", "x" * 10_000),
    ("empty", ""),
    ("uppercase", "SALES"),
]

BAD_VALUES = [
    ("dotdot", ".."),
    ("dot", "."),
    ("slash", "a/b"),
    ("backslash", "a\\b"),
    ("escaped slash left escaped", "a%2Fb"),
    ("double-encoded dotdot", "%252E%252E"),
    ("nul", "a\0b"),
    ("newline", "a\nb"),
    ("fullwidth slash", "a／b"),
    ("two-dot leader", "‥"),
    ("zero-width space", "u\u200bs"),
    ("bidi override", "\u202esu"),
    ("10,000 characters", "x" * 10_000),
    ("empty", ""),
    ("leading space", " us"),
]


def corpus(ns: str, ids: dict[str, str]) -> list[Case]:
    cases: list[Case] = []
    bad = bm.InvalidInputError
    for label, n in BAD_NAMES:
        cases += [
            (f"store into namespace {label}", bad, "invalid_name", lambda c, n=n: c.store_dataframe(frame(), n, "t", [US])),
            (f"store into table {label}", bad, "invalid_name", lambda c, n=n: c.store_dataframe(frame(), ns, n, [US])),
            (f"load namespace {label}", bad, "invalid_name", lambda c, n=n: c.load_dataframe(n, "t")),
            (f"create table {label}", bad, "invalid_name", lambda c, n=n: c.create_table(ns, n, frame(), [("date", "date")])),
            (f"partition key {label}", bad, "invalid_name", lambda c, n=n: c.create_table(ns, "fresh", frame(), [(n, "string")])),
            (f"pin {label}", bad, "invalid_name", lambda c, n=n: c.pin(ns, "t", n, US)),
        ]
    for label, v in BAD_VALUES:
        p = {"date": dt.date(2016, 10, 31), "region": v}
        cases += [
            (f"store value {label}", bad, "invalid_partition", lambda c, p=p: c.store_dataframe(frame(), ns, "t", [p])),
            (f"load value {label}", bad, "invalid_partition", lambda c, p=p: c.load_dataframe(ns, "t", [p])),
            (f"rollback value {label}", bad, "invalid_partition", lambda c, p=p: c.rollback(ns, "t", [p])),
            (f"stage value {label}", bad, "invalid_partition", lambda c, p=p: c.stage(ns, "t", [p])),
        ]
    cases += [
        ("bad date", bad, "invalid_partition", lambda c: c.store_dataframe(frame(), ns, "t", [{"date": "2016-13-45", "region": "us"}])),
        ("missing key", bad, "invalid_partition", lambda c: c.store_dataframe(frame(), ns, "t", [{"date": dt.date(2016, 10, 31)}])),
        ("unknown key", bad, "invalid_partition", lambda c: c.store_dataframe(frame(), ns, "t", [{"day": "2016-10-31", "region": "us"}])),
    ]
    for label, b in [("short", "2016"), ("letters", "abcdefghijklmnopqrst"), ("traversal", "../20161102234252000000"), ("10,000 digits", "9" * 10_000)]:
        cases += [
            (f"load batch {label}", bad, "invalid_batch_id", lambda c, b=b: c.load_dataframe(ns, "t", [US], batch_id=b)),
            (f"rollback to {label}", bad, "invalid_batch_id", lambda c, b=b: c.rollback(ns, "t", [US], to=b)),
            (f"expect {label}", bad, "invalid_batch_id", lambda c, b=b: c.store_dataframe(frame(), ns, "t", [US], expected_batch=b)),
        ]
    cases += [
        ("load another table's batch", bm.NotFoundError, "batch_not_found", lambda c: c.load_dataframe(ns, "t", batch_id=ids["other_table"])),
        ("rollback to another table's batch", bm.NotFoundError, "batch_not_found", lambda c: c.rollback(ns, "t", [US], to=ids["other_table"])),
        ("publish another table's staged batch", bm.NotFoundError, "batch_not_found", lambda c: c.publish(ns, "t", [(US, ids["other_table_staged"])])),
        ("rollback to another partition's batch", bad, "batch_partition_mismatch", lambda c: c.rollback(ns, "t", [US], to=ids["eu"])),
        ("pin another partition's batch", bad, "batch_partition_mismatch", lambda c: c.pin(ns, "t", "reader", US, batch_id=ids["eu"])),
        ("publish another partition's staged batch", bad, "batch_partition_mismatch", lambda c: c.publish(ns, "t", [(US, ids["staged_eu"])])),
        ("rollback to a staged batch", bad, "batch_not_committed", lambda c: c.rollback(ns, "t", [US], to=ids["staged_us"])),
        ("pin a staged batch", bad, "batch_not_committed", lambda c: c.pin(ns, "t", "reader", US, batch_id=ids["staged_us"])),
        ("publish an empty staged batch", bad, "empty_batch", lambda c: c.publish(ns, "t", [(US, ids["staged_us"])])),
        ("store expecting a staged batch", bm.ConflictError, "conflict", lambda c: c.store_dataframe(frame(), ns, "t", [US], expected_batch=ids["staged_us"])),
        # Wrong types and values of arguments.
        ("metadata not str", bad, "invalid_input", lambda c: c.store_dataframe(frame(), ns, "t", [US], metadata={"n": 1})),  # type: ignore[dict-item]
        ("bool partition", bad, "invalid_partition", lambda c: c.store_dataframe(frame(), ns, "t", [True])),
        ("schema mode", bad, "invalid_schema_mode", lambda c: c.store_dataframe(frame(), ns, "t", [US], schema_mode="loose")),  # type: ignore[arg-type]
        ("wrong column type", bm.SchemaMismatchError, "schema_mismatch", lambda c: c.store_dataframe(frame().assign(price=["x", "y"]), ns, "t", [US])),
        ("unknown column", bad, "unknown_column", lambda c: c.load_dataframe(ns, "t", columns=["nope"])),
    ]
    return cases


def setup(env: Env) -> dict[str, str]:
    c, ns = env.client, env.ns
    c.store_dataframe(frame(), ns, "t", [US])
    eu = c.store_dataframe(frame(), ns, "t", [EU]).batch_id
    other = c.store_dataframe(frame(), ns, "u", [US]).batch_id
    return {
        "eu": eu,
        "other_table": other,
        "other_table_staged": c.stage(ns, "u", [{"date": dt.date(2016, 11, 1), "region": "us"}])[0].batch_id,
        "staged_us": c.stage(ns, "t", [US])[0].batch_id,
        "staged_eu": c.stage(ns, "t", [EU])[0].batch_id,
    }


def run(env: Env, cases: list[Case]) -> list[str]:
    """One line per failure: no exception, the wrong class or code, or any
    change to rows, events or files."""
    wrong: list[str] = []
    before = state(env)
    for label, cls, code, call in cases:
        try:
            call(env.client)
            wrong.append(f"{label}: raised nothing")
        except bm.BatchmetaError as e:
            if type(e) is not cls or e.code != code:
                wrong.append(f"{label}: {type(e).__name__}({e.code}), want {cls.__name__}({code}): {str(e)[:200]}")
            elif len(str(e)) > 2000:
                wrong.append(f"{label}: a {len(str(e))}-character message")
        except Exception as e:  # noqa: BLE001 - untyped exceptions are failures
            wrong.append(f"{label}: untyped {type(e).__name__}: {str(e)[:200]}")
        after = state(env)
        if after != before:
            wrong.append(f"{label}: changed the catalog or the warehouse")
            before = after
    return wrong


def meta_verify(env: Env) -> str:
    url = env.client.url if env.mode != "embedded" else str(env.warehouse.parent)
    out = meta("--url", str(url), "verify")
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_bad_input_corpus(env: Env) -> None:
    ids = setup(env)
    cases = corpus(env.ns, ids)
    assert len(cases) >= 150, len(cases)
    wrong = run(env, cases)
    assert not wrong, f"{len(wrong)} of {len(cases)} cases failed:\n" + "\n".join(wrong)
    assert "no violations" in meta_verify(env)


def test_too_many_partitions_in_one_request(env: Env) -> None:
    if env.mode == "embedded":
        pytest.skip("a server limit (--max-partitions-per-request)")
    setup(env)
    before = state(env)
    many = [{"date": dt.date(2016, 10, 31), "region": f"r{i}"} for i in range(10_001)]
    with pytest.raises(bm.InvalidInputError) as e:
        env.client.stage(env.ns, "t", many)
    assert e.value.code == "too_many_partitions", e.value
    assert "at most 10000" in str(e.value)
    assert state(env) == before


def test_the_harness_reports_accepted_input_wrong_classes_and_writes(env: Env) -> None:
    """Negative control: cases that are not refused, raise the wrong class,
    or write before raising must each be reported. (The extension is built
    without the test-only faults, so the fault is injected here.)"""
    if env.mode != "embedded":
        pytest.skip("the harness is the same for every mode")
    ids = setup(env)

    def write_then_raise(c: bm.Client) -> None:
        c.store_dataframe(frame(), env.ns, "t", [US])
        raise bm.InvalidInputError("refused", code="invalid_name")

    faulty: list[Case] = [
        ("accepted", bm.InvalidInputError, "invalid_name", lambda c: c.store_dataframe(frame(), env.ns, "t", [EU])),
        ("wrong class", bm.NotFoundError, "invalid_name", lambda c: c.load_dataframe("..", "t")),
        ("writes", bm.InvalidInputError, "invalid_name", write_then_raise),
    ]
    wrong = run(env, corpus(env.ns, ids)[:3] + faulty)
    assert any(w.startswith("accepted: raised nothing") for w in wrong), wrong
    assert any(w.startswith("wrong class:") for w in wrong), wrong
    assert any(w.startswith("writes: changed") for w in wrong), wrong
    assert len(wrong) == 4, wrong  # "accepted" also wrote
