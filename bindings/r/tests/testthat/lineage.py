"""The Python half of test-lineage.R, through the real wheel.

    python lineage.py load-a-store-b URL NS   # loads NS.a (R wrote it), stores NS.b
    python lineage.py check-c URL NS          # NS.c (R built it from b) lists b's batch
Prints "ok" when every check passed.
"""

from __future__ import annotations

import sys

import pandas as pd

import batchmeta as bm

P = "2016-10-31"


def main() -> None:
    step, url, ns = sys.argv[1:4]
    c = bm.Client(url)
    if step == "load-a-store-b":
        c.load_dataframe(ns, "a", partitions=[P])
        b = c.store_dataframe(pd.DataFrame({"n": [1, 2]}), ns, "b", partitions=[{"day": P}])
        [a] = c.lineage(ns, "b", P)
        assert a["table"] == f"{ns}.a" and a["current"], a
        print(b.batch_id)
    elif step == "check-c":
        up = c.lineage(ns, "c", P)
        assert [n["table"] for n in up] == [f"{ns}.b", f"{ns}.a"], up
    else:
        raise SystemExit(f"unknown step {step}")
    print("ok")


if __name__ == "__main__":
    main()
