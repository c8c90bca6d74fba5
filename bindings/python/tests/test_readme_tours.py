"""The README's tours, run in the order a reader meets them, on ONE fresh
`meta serve`: the Python quick start, the CLI tour (and its conflict
example), then the curl tour. Each keeps to its own names, so none collides
with another; every command must do what the README says it does."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import batchmeta as bm
from catalogs import REPO, meta_binary, running_server

README = (REPO / "README.md").read_text()


def block(after: str, lang: str, nth: int = 0) -> str:
    """The `nth` fenced block of `lang` after the heading `after`."""
    rest = README[README.index(after) :]
    blocks = re.findall(rf"```{lang}\n(.*?)```", rest, flags=re.S)
    return blocks[nth]


def console_commands(text: str) -> list[str]:
    return [line[2:] for line in text.splitlines() if line.startswith("$ ")]


def test_the_readme_tours_run_in_order_on_one_server(tmp_path: Path) -> None:
    (tmp_path / "server").mkdir()
    with running_server(tmp_path / "server") as srv:
        # 1. The Python quick start, with the README's own URL pointed here.
        code = block("## Python quick start", "python")
        assert 'bm.connect("http://127.0.0.1:8080")' in code
        exec(compile(code.replace("http://127.0.0.1:8080", srv.url), "README.md", "exec"), {})
        bm.connect(srv.url)
        assert [p.partition for p in bm.partitions("sales", "sold_items")] == ["date=2016-10-31"]

        # 2. The CLI tour, command by command, then its conflict example.
        work = tmp_path / "cli"
        work.mkdir()
        env = {
            **os.environ,
            "BATCHMETA_URL": srv.url,
            "PATH": f"{meta_binary().parent}{os.pathsep}{os.environ['PATH']}",
            "NO_COLOR": "1",
            "RUST_BACKTRACE": "0",
        }
        tour = console_commands(block("## CLI tour", "console"))
        assert tour[0].startswith("meta ns create")
        for cmd in tour:
            r = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, capture_output=True, text=True)
            assert r.returncode == 0, f"$ {cmd}\n{r.stdout}{r.stderr}"
        (conflict,) = console_commands(block("## CLI tour", "console", 1))
        r = subprocess.run(["bash", "-c", conflict], cwd=work, env=env, capture_output=True, text=True)
        assert r.returncode == 1 and "conflict" in r.stderr and "hint:" in r.stderr, r.stderr

        # 3. The curl tour, from the repository's root as the README says.
        curl = block("## A tour with curl", "sh").replace("M=http://127.0.0.1:8080", f"M={srv.url}")
        r = subprocess.run(["bash", "-euc", curl], cwd=REPO, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert '"error"' not in r.stdout, r.stdout
        client = bm.Client(srv.url)
        moves = [e.action for e in client.history("web", "orders", "date=2016-10-31")]
        assert moves == ["rollback", "publish", "publish"]

        # Nothing of one tour was touched by another.
        assert sorted(client.namespaces()) == ["sales", "shop", "web"]

