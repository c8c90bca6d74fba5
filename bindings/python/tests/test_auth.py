"""A `meta serve --auth tokens` from Python: the token parameter and
BATCHMETA_TOKEN, the principal events record, and the typed exceptions for a
missing, bad or revoked token, a role that is too weak, and a token of
another namespace. Nothing refused may change the catalog."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import batchmeta as bm

from catalogs import catalog_rows, local_catalog, meta, running_server


@dataclass
class AuthServer:
    url: str
    root: Path
    tokens: dict[str, str] = field(repr=False)

    def meta(self, *args: str) -> subprocess.CompletedProcess[str]:
        return meta(*local_catalog(self.root), *args)

    def event_count(self) -> int:
        return catalog_rows(self.root / "catalog.db")[0]["events"]


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    root = tmp_path_factory.mktemp("auth")
    (root / "warehouse").mkdir()
    srv = AuthServer(url="", root=root, tokens={})
    for name, role in [
        ("root", "admin"),
        ("sales_writer", "writer:sales"),
        ("sales_reader", "reader:sales"),
        ("hr_writer", "writer:hr"),
        ("gone", "admin"),
    ]:
        out = srv.meta("token", "create", name, "--role", role)
        assert out.returncode == 0, out.stderr
        srv.tokens[name] = out.stdout.strip()
    assert srv.meta("token", "revoke", "gone").returncode == 0
    for ns in ["sales", "hr"]:
        assert srv.meta("ns", "create", ns).returncode == 0
        out = srv.meta(
            "table", "create", f"{ns}.t", "--columns", "id:int64,x:float64",
            "--partition-by", "date:string",
        )
        assert out.returncode == 0, out.stderr
    with running_server(root, "--auth", "tokens") as s:
        srv.url = s.url
        yield srv


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "x": [0.5, 1.5, 2.5]})


def test_a_writer_token_stores_and_events_record_it(auth_server: AuthServer) -> None:
    c = bm.Client(auth_server.url, token=auth_server.tokens["sales_writer"], direct_data=False)
    commit = c.store_dataframe(_frame(), "sales", "t", partitions=["2016-10-31"])
    assert c.load_dataframe("sales", "t", partitions=["2016-10-31"])["id"].tolist() == [1, 2, 3]
    events = c.events("sales", "t")
    assert events.iloc[0]["principal"] == "token:sales_writer"
    assert commit.batch_id == events.iloc[0]["to_batch"]


def test_the_token_comes_from_the_environment(
    auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHMETA_TOKEN", auth_server.tokens["sales_reader"])
    c = bm.Client(auth_server.url, direct_data=False)
    assert [t.name for t in c.tables("sales")] == ["t"]


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (None, "unauthorized"),
        ("not-a-token", "malformed_token"),
        ("bm_0123456789abcdef_" + "0" * 64, "invalid_token"),
        ("gone", "token_revoked"),
    ],
)
def test_bad_tokens_raise_authentication_error(
    auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch, token: str | None, code: str
) -> None:
    monkeypatch.delenv("BATCHMETA_TOKEN", raising=False)
    value = auth_server.tokens.get(token, token) if token else None
    with pytest.raises(bm.AuthenticationError) as e:
        bm.Client(auth_server.url, token=value, direct_data=False)
    assert e.value.code == code
    assert isinstance(e.value, PermissionError)
    assert "token" in str(e.value)


def test_too_weak_or_foreign_tokens_raise_permission_error_and_change_nothing(
    auth_server: AuthServer,
) -> None:
    before = auth_server.event_count()
    reader = bm.Client(auth_server.url, token=auth_server.tokens["sales_reader"], direct_data=False)
    with pytest.raises(bm.PermissionError) as e:
        reader.store_dataframe(_frame(), "sales", "t", partitions=["2016-11-01"])
    assert e.value.code == "forbidden"
    assert not isinstance(e.value, bm.AuthenticationError)
    assert "writer on namespace sales" in str(e.value)
    foreign = bm.Client(auth_server.url, token=auth_server.tokens["hr_writer"], direct_data=False)
    with pytest.raises(bm.PermissionError):
        foreign.load_dataframe("sales", "t", partitions=["2016-10-31"])
    with pytest.raises(bm.PermissionError):
        foreign.store_dataframe(_frame(), "sales", "t", partitions=["2016-11-02"])
    with pytest.raises(bm.PermissionError):
        foreign.rollback("sales", "t", "2016-10-31")
    assert set(foreign.events()["namespace"]) == {"hr"}
    assert auth_server.event_count() == before
    verify = auth_server.meta("verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
