"""Retention through the wheel (docs/retention.md): ``gc``'s dry run lists
what would go and why the rest stays, and changes nothing; the apply
deletes exactly that; policies set with ``set_retention``; refusals. Every
test runs embedded and through a real server (which runs the gc)."""

from __future__ import annotations

import re
import urllib.request

import batchmeta as bm
import pandas as pd
import pytest
from conftest import Env

P = "2016-10-31"
NOW = {"grace": "0s", "force_grace": True}


def store(env: Env, tag: str) -> str:
    df = pd.DataFrame({"id": [1, 2, 3], "tag": [tag] * 3})
    return env.client.store_dataframe(df, env.ns, "t", partitions=[{"day": P}]).batch_id


def gone(report: dict) -> set[str]:
    return {c["batch"] for c in report["collected"]}


def why(report: dict) -> dict[str, str]:
    return {s["batch"]: s["why"] for s in report["survivors"]}


def test_dry_run_then_apply_deletes_exactly_what_was_listed(env: Env) -> None:
    b1, b2, b3, b4 = (store(env, f"b{i}") for i in range(4))
    env.client.pin(env.ns, "t", "report", P, batch_id=b1, reason="Q4")
    before = env.snapshot()
    dry = env.client.gc(env.ns, "t", keep_last=2, **NOW)
    assert env.snapshot() == before, "a dry run changes nothing"
    assert dry["applied"] is False
    assert gone(dry) == {b2}
    assert why(dry) == {b1: "pinned by report", b3: "within keep-last", b4: "current"}
    assert dry["batches"] == 1 and dry["files"] >= 1 and dry["bytes"] > 0
    files = dry["collected"][0]["files"]

    applied = env.client.gc(env.ns, "t", keep_last=2, apply=True, **NOW)
    assert applied["applied"] is True
    assert applied["collected"] == dry["collected"]
    for f in files:
        assert f.split(f"{env.ns}/", 1)[1] not in env.files()
    # The current and pinned batches still read.
    assert len(env.client.load_dataframe(env.ns, "t", partitions=[P])) == 3
    assert len(env.client.load_dataframe(env.ns, "t", partitions=[P], pin="report")) == 3
    # A rerun deletes nothing twice; the trail has one expire event.
    assert env.client.gc(env.ns, "t", keep_last=2, apply=True, **NOW)["collected"] == []
    expires = env.client.events(env.ns, action="expire")
    assert expires["from_batch"].tolist() == [b2]
    with pytest.raises(bm.InvalidInputError) as e:
        env.client.rollback(env.ns, "t", P, to=b2)
    assert e.value.code == "batch_expired"


def test_set_retention_is_the_policy_gc_follows(env: Env) -> None:
    b1, b2, b3 = (store(env, f"b{i}") for i in range(3))
    assert gone(env.client.gc(env.ns, "t", **NOW)) == set(), "no policy, nothing goes"
    t = env.client.set_retention(env.ns, "t", keep_last=2, max_age="30d")
    assert t["properties"] == {"retention.keep_last": "2", "retention.max_age": "30d"}
    dry = env.client.gc(env.ns, "t", **NOW)
    assert gone(dry) == set() and why(dry)[b1] == "younger than the policy's max age"
    env.client.set_retention(env.ns, "t", max_age=None)
    assert gone(env.client.gc(env.ns, "t", **NOW)) == {b1}
    # A namespace's policy is the default of its tables.
    assert env.client.set_retention(env.ns, "t", keep_last=None)["properties"] == {}
    ns = env.client.set_retention(env.ns, keep_last=1)
    assert ns["properties"]["retention.keep_last"] == "1"
    dry = env.client.gc(env.ns, **NOW)
    assert gone(dry) == {b1, b2} and why(dry)[b3] == "current"


def test_bad_input_is_refused_and_changes_nothing(env: Env) -> None:
    store(env, "a")
    store(env, "b")
    before = env.snapshot()
    with pytest.raises(bm.InvalidInputError) as e:
        env.client.gc(env.ns, "t", keep_last=1, grace="5m", apply=True)
    assert e.value.code == "grace_too_short"
    with pytest.raises(bm.InvalidInputError) as e:
        env.client.set_retention(env.ns, "t", keep_last=0)
    assert e.value.code == "invalid_retention"
    with pytest.raises(bm.InvalidInputError) as e:
        env.client.gc(env.ns, "t", older_than="soon")
    assert e.value.code == "invalid_duration"
    with pytest.raises(bm.InvalidInputError):
        env.client.gc(None, "t")
    with pytest.raises(bm.NotFoundError):
        env.client.gc(env.ns, "nope")
    assert env.snapshot() == before


def test_the_server_counts_what_gc_reclaimed(env: Env) -> None:
    if env.mode == "embedded":
        pytest.skip("metrics are the server's")
    url = env.client.url

    def reclaimed() -> float:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:
            text = r.read().decode()
        m = re.search(r"^batchmeta_gc_reclaimed_batches_total (\S+)$", text, re.MULTILINE)
        assert m, text
        return float(m.group(1))

    store(env, "a")
    store(env, "b")
    before = reclaimed()
    env.client.gc(env.ns, "t", keep_last=1, **NOW)
    assert reclaimed() == before, "a dry run reclaims nothing"
    env.client.gc(env.ns, "t", keep_last=1, apply=True, **NOW)
    assert reclaimed() == before + 1
