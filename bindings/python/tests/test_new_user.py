"""What a new user hit first (issue 14): silent wrong results, errors that
lied about their cause, and interfaces that disagreed. Each test runs in
every mode of the `env` fixture (embedded, through a server, uploads)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import batchmeta as bm
from catalogs import meta as run_meta
from conftest import Env

P = ["2016-10-31"]
DAY = [{"date": "2016-10-31"}]


def test_a_store_into_a_missing_namespace_fails_and_suggests_the_close_one(env: Env) -> None:
    df = pd.DataFrame({"x": [1]})
    # A typo of an existing namespace: NotFoundError, "did you mean", nothing created.
    typo = env.ns[:-1]
    before = set(env.client.namespaces())
    with pytest.raises(bm.NotFoundError) as e:
        env.client.store_dataframe(df, typo, "t", DAY)
    assert f"did you mean `{env.ns}`" in str(e.value)
    assert e.value.code == "namespace_not_found"
    far = "zz" + uuid.uuid4().hex[:10]
    with pytest.raises(bm.NotFoundError) as e:
        env.client.store_dataframe(df, far, "t", DAY)
    assert "did you mean" not in str(e.value)
    assert set(env.client.namespaces()) == before
    # Creating one is deliberate, and then a first store creates the table.
    assert env.client.create_namespace(far) == far
    assert env.client.create_namespace(far, exist_ok=True) == far
    with pytest.raises(bm.AlreadyExistsError):
        env.client.create_namespace(far)
    assert env.client.store_dataframe(df, far, "t", DAY).created_table


def test_lossless_casts_are_accepted_and_lossy_ones_refused(env: Env) -> None:
    floats = pd.DataFrame({"price": [1.5, 2.25]})
    env.client.store_dataframe(floats, env.ns, "prices", DAY)
    # Integers into a float column lose nothing: accepted, read back as floats.
    env.client.store_dataframe(pd.DataFrame({"price": [2, 3]}), env.ns, "prices", P)
    got = env.client.load_dataframe(env.ns, "prices", P)
    assert got["price"].dtype == "float64" and got["price"].tolist() == [2.0, 3.0]
    # An int64 that float64 cannot hold exactly is refused, naming the column.
    with pytest.raises(bm.SchemaMismatchError) as e:
        env.client.store_dataframe(pd.DataFrame({"price": [2**53 + 1]}), env.ns, "prices", P)
    assert "price" in str(e.value)
    # Floats into an int column would lose the fraction: refused, and the
    # hint does not send the user to schema_mode="merge".
    env.client.store_dataframe(pd.DataFrame({"qty": [1, 2]}), env.ns, "qty", DAY)
    with pytest.raises(bm.SchemaMismatchError) as e:
        env.client.store_dataframe(pd.DataFrame({"qty": [1.5, 2.0]}), env.ns, "qty", P)
    assert "qty" in str(e.value) and "merge only adds columns" in str(e.value)
    assert env.client.load_dataframe(env.ns, "qty", P)["qty"].tolist() == [1, 2]


def test_an_all_none_column_is_stored_into_a_string_column(env: Env) -> None:
    env.client.store_dataframe(pd.DataFrame({"name": ["a", "b"], "n": [1, 2]}), env.ns, "t", DAY)
    empty = pd.DataFrame({"name": [None, None], "n": [3, 4]})
    assert pa.Table.from_pandas(empty).schema.field("name").type == pa.null()
    env.client.store_dataframe(empty, env.ns, "t", P)
    got = env.client.load_dataframe(env.ns, "t", P, output="arrow")
    t = got.schema.field("name").type
    assert pa.types.is_string(t) or pa.types.is_large_string(t), t
    assert got.column("name").to_pylist() == [None, None]


def test_an_all_null_categorical_keeps_its_categories(env: Env) -> None:
    cat = pd.Categorical([None, None], categories=["a", "b"])
    env.client.store_dataframe(pd.DataFrame({"c": cat}), env.ns, "t", DAY)
    got = env.client.load_dataframe(env.ns, "t", P)
    assert "" not in list(got["c"].cat.categories)
    assert got["c"].isna().all()


def test_a_republish_with_a_wrong_expected_batch_is_a_conflict(env: Env) -> None:
    r1 = env.client.store_dataframe(pd.DataFrame({"x": [1]}), env.ns, "t", DAY)
    r2 = env.client.store_dataframe(pd.DataFrame({"x": [2]}), env.ns, "t", P)
    # r1 is committed and no longer current; republishing it expecting a
    # batch that was never its parent must not answer 200.
    with pytest.raises(bm.ConflictError) as e:
        env.client.publish(env.ns, "t", {"2016-10-31": r1.batch_id}, expected_batch=r2.batch_id)
    assert e.value.current_batch == r2.batch_id
    with pytest.raises(bm.ConflictError):
        env.client.publish(env.ns, "t", {"2016-10-31": r2.batch_id}, expected_batch=bm.NO_BATCH)
    # The retry that matches what the commit found still answers that commit.
    again = env.client.publish(env.ns, "t", {"2016-10-31": r2.batch_id}, expected_batch=r1.batch_id)
    assert again.events[0].to_batch == r2.batch_id
    assert [p.current_batch for p in env.client.partitions(env.ns, "t")] == [r2.batch_id]


def test_times_parse_the_same_everywhere(env: Env) -> None:
    env.client.store_dataframe(pd.DataFrame({"x": [1]}), env.ns, "t", DAY)
    assert len(env.client.events(env.ns, since="1h")) == 3  # namespace, table, publish
    assert len(env.client.events(env.ns, since="2000-01-01")) == 3
    assert len(env.client.events(env.ns, until="2000-01-01")) == 0
    assert env.client.load_dataframe(env.ns, "t", P, as_of="0s")["x"].tolist() == [1]
    assert env.client.load_dataframe(env.ns, "t", P, as_of=dt.date.today() + dt.timedelta(days=1))["x"].tolist() == [1]
    with pytest.raises(bm.NotFoundError):  # parsed: nothing was current in 2000
        env.client.load_dataframe(env.ns, "t", P, as_of="2000-01-01")
    with pytest.raises(bm.InvalidInputError) as e:
        env.client.events(env.ns, since="yesterday")
    assert e.value.code == "invalid_time" and "2d" in str(e.value)
    pin = env.client.pin(env.ns, "t", "p", "2016-10-31", expires_at="30d")
    assert pin.expires_at is not None and pin.expires_at > dt.datetime.now(dt.timezone.utc)


def test_pins_of_a_namespace(env: Env) -> None:
    env.client.store_dataframe(pd.DataFrame({"x": [1]}), env.ns, "a", DAY)
    env.client.store_dataframe(pd.DataFrame({"x": [1]}), env.ns, "b", DAY)
    env.client.pin(env.ns, "a", "one", "2016-10-31")
    env.client.pin(env.ns, "b", "two", "2016-10-31")
    assert sorted(p.name for p in env.client.pins(env.ns)) == ["one", "two"]
    assert [p.name for p in env.client.pins(env.ns, "a")] == ["one"]
    with pytest.raises(bm.InvalidInputError):
        env.client.pins(None, "a")


def test_file_uris_are_valid_and_open_in_polars_and_pyarrow(env: Env) -> None:
    import polars as pl

    df = pd.DataFrame({"region": ["a b=c%zé"], "x": [7]})
    env.client.store_dataframe(df, env.ns, "t", partition_by=["region"])
    (uri,) = env.client.files(env.ns, "t")
    assert " " not in uri and "é" not in uri and "%253D" in uri and "%2525" in uri
    assert pl.read_parquet(uri)["x"].to_list() == [7]
    from urllib.parse import unquote, urlparse

    assert pq.read_table(unquote(urlparse(uri).path)).column("x").to_pylist() == [7]


def test_polars_output_without_polars_says_how_to_install_it(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.client.store_dataframe(pd.DataFrame({"x": [1]}), env.ns, "t", DAY)
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ModuleNotFoundError) as e:
        env.client.load_dataframe(env.ns, "t", P, output="polars")
    assert "pip install polars" in str(e.value)


def test_results_print_short_and_as_html(env: Env) -> None:
    r = env.client.store_dataframe(pd.DataFrame({"x": range(1000)}), env.ns, "t", DAY)
    text = repr(r)
    assert r.batch_id in text and "1,000 rows" in text and len(text) < 120, text
    for obj in [r.batches[0], env.client.partitions(env.ns, "t")[0], env.client.history(env.ns, "t", P[0])[0]]:
        assert len(repr(obj)) < 200, repr(obj)
        assert "<table>" in obj._repr_html_()
    p = env.client.partitions(env.ns, "t")[0]
    assert p.current_batch == r.batch_id and p.current_batch in repr(p)


def test_the_module_shows_its_api_with_whole_docstrings() -> None:
    shown = dir(bm)
    for hidden in ["os", "sys", "threading", "getpass"]:
        assert hidden not in shown
    for name in ["store_dataframe", "load_dataframe", "create_namespace", "pins", "rollback"]:
        assert name in shown
        assert getattr(bm, name).__doc__ == getattr(bm.Client, name).__doc__
    assert "partition_by" in (bm.store_dataframe.__doc__ or "")


def test_meta_put_csv_casts_losslessly_and_refuses_lossy_values(tmp_path: Path) -> None:
    """`meta put` of a CSV parses it in the table's types: `2` into float64
    is 2.0, `1.5` into int64 is refused naming its line and column, never
    truncated; and `table show --output json` feeds `table create --schema-json`."""

    def meta(*args: str) -> subprocess.CompletedProcess[str]:
        return run_meta(*args, cwd=tmp_path)

    assert meta("ns", "create", "sales").returncode == 0
    assert meta("table", "create", "sales.t", "--columns", "qty:int64,price:float64", "--partition-by", "date:date").returncode == 0
    (tmp_path / "ok.csv").write_text("qty,price\n1,2\n")
    (tmp_path / "bad.csv").write_text("qty,price\n1.5,3\n")
    r = meta("put", "sales.t", "date=2016-10-31", "ok.csv")
    assert r.returncode == 0, r.stderr
    r = meta("put", "sales.t", "date=2016-10-31", "bad.csv")
    assert r.returncode == 1 and "1.5" in r.stderr and "line 1" in r.stderr and "hint:" in r.stderr, r.stderr
    got = bm.Client(str(tmp_path / ".batchmeta")).load_dataframe("sales", "t", ["2016-10-31"])
    assert got["qty"].tolist() == [1] and got["price"].tolist() == [2.0]

    shown = meta("table", "show", "sales.t", "--output", "json")
    (tmp_path / "t.json").write_text(shown.stdout)
    r = meta("table", "create", "sales.copy", "--schema-json", "t.json")
    assert r.returncode == 0, r.stderr
    copy = bm.Client(str(tmp_path / ".batchmeta")).table("sales", "copy")
    assert copy.columns == [("qty", "Int64"), ("price", "Float64")] and copy.partition_keys == [("date", "date")]


def _no_other_edge(text: str) -> None:
    """A Python error names Python calls: no `meta` command, flag or route."""
    assert "meta " not in text and "--" not in text and "/v1/" not in text, text


def test_hints_name_python_calls_not_the_cli_or_http(env: Env) -> None:
    df = pd.DataFrame({"x": [1]})
    with pytest.raises(bm.NotFoundError) as e:
        env.client.store_dataframe(df, env.ns[:-1], "t", DAY)
    assert f'bm.create_namespace("{env.ns[:-1]}")' in str(e.value), str(e.value)
    _no_other_edge(str(e.value))

    env.client.store_dataframe(df, env.ns, "hinted", DAY)
    with pytest.raises(bm.InvalidInputError) as e:
        env.client.rollback(env.ns, "hinted", P)
    assert e.value.code == "no_parent"
    assert 'to="BATCH"' in str(e.value) and "bm.history(" in str(e.value), str(e.value)
    _no_other_edge(str(e.value))

    with pytest.raises(bm.SchemaMismatchError) as e:
        env.client.store_dataframe(pd.DataFrame({"x": [1], "y": [2]}), env.ns, "hinted", DAY)
    assert 'schema_mode="merge"' in str(e.value), str(e.value)
    _no_other_edge(str(e.value))

    current = env.client.partitions(env.ns, "hinted")[0].current_batch
    with pytest.raises(bm.ConflictError) as e:
        env.client.store_dataframe(df, env.ns, "hinted", DAY, expected_batch=bm.NO_BATCH)
    assert f'expected_batch="{current}"' in str(e.value), str(e.value)
    _no_other_edge(str(e.value))

    for call in (
        lambda: env.client.table(env.ns, "nope"),
        lambda: env.client.history(env.ns, "hinted", "2001-01-01"),
        lambda: env.client.unpin(env.ns, "hinted", "nope"),
    ):
        with pytest.raises(bm.NotFoundError) as e:
            call()
        _no_other_edge(str(e.value))
