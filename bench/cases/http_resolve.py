"""Case 5: HTTP resolve throughput and latency with wrk at 64 connections
against the release ``meta serve``, on case 4's big table (random
partitions, one per request). wrk and the server share the machine."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

from bench.context import BenchContext
from bench.server import MetaServer
from bench.systems.base import PARTITION_KEY
from bench.systems.batchmeta_table import NAMESPACE

#: A wrk script: POST resolve for a pseudo-random partition per request.
WRK_SCRIPT = """
math.randomseed(7)
local partitions = {partitions}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = string.format('{{"partitions": ["{key}=%d"]}}', math.random(0, partitions - 1))
  return wrk.format(nil, "{path}", nil, body)
end
"""

UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_duration(text: str) -> float:
    """A wrk duration (``812.00us``, ``1.20ms``, ``2.01s``) in seconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNIT_SECONDS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, latency percentiles and errors from ``wrk --latency`` output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise RuntimeError(f"wrk output without Requests/sec:\n{output}")
    percentiles = {f"p{p}_s": parse_duration(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)$", output, re.MULTILINE)}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    return {
        "requests_per_s": float(rate.group(1)),
        **percentiles,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": socket_errors.group(0) if socket_errors else None,
    }


def run(ctx: BenchContext, table_directory: str, partitions: int) -> dict[str, Any]:
    config = ctx.config
    path = f"/v1/namespaces/{NAMESPACE}/tables/big/resolve"
    script = os.path.join(ctx.directory("case5"), "resolve.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT.format(partitions=partitions, key=PARTITION_KEY, path=path))
    with MetaServer(ctx.meta_binary, table_directory, os.path.join(ctx.directory("logs"), "case5-serve.log")) as server:
        command = [
            "wrk",
            f"-t{config.wrk_threads}",
            f"-c{config.wrk_connections}",
            f"-d{config.wrk_seconds}s",
            "--latency",
            "-s",
            script,
            server.url,
        ]
        ctx.log(f"case 5: {' '.join(command)}")
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    return {"partitions": partitions, "command": " ".join(command[:-2] + ["resolve.lua", "URL"]), **parse_wrk(done.stdout), "output": done.stdout}
