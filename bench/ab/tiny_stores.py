"""A/B of tiny stores (issue 22): one writer storing a 10-row frame into one
partition, again and again, through the Python client, on the embedded
SQLite catalog and on PostgreSQL (a local warehouse directory for both).
One persistent worker process per variant and catalog; rounds interleaved
(the order alternates every round). Prints stores/s per round and the
medians.

usage: python bench/ab/tiny_stores.py ROUNDS STORES name=DIR [name=DIR ...]
(each DIR holds a built ``batchmeta`` package, e.g. a copy of
bindings/python/python from a checkout built with
``scripts/python-build --release``; AB_PG_URL=postgres://... adds the
PostgreSQL catalog, one fresh database per variant made by the caller:
AB_PG_URL is a template with ``{name}`` for the variant's name;
AB_PARTITIONS=K makes each store one ``partition_by`` write of K
partitions, one row each, and the rates partitions/s)
"""
import json, os, subprocess, sys, statistics, tempfile

WORKER = r'''
import sys, os, time, json
sys.path.insert(0, os.environ["AB_PKG"])
import batchmeta as bm, pandas as pd
d = os.environ["AB_DIR"]
url = os.environ.get("AB_URL")
c = bm.Client(url, warehouse=os.path.join(d, "wh")) if url else bm.Client(os.path.join(d, "bm"))
c.create_namespace("ab")
k = int(os.environ.get("AB_PARTITIONS", "0"))
if k:
    frame = pd.DataFrame({"p": range(k), "v": range(k)})
    store = lambda: c.store_dataframe(frame, "ab", "wide", partition_by=["p"])
    per_store = k
else:
    frame = pd.DataFrame({"v": range(10)})
    c.create_table("ab", "tiny", frame, ["p"])
    store = lambda: c.store_dataframe(frame, "ab", "tiny", partitions=["0"])
    per_store = 1
for _ in range(1 if k else 20):
    store()
print(json.dumps({"ready": bm.__file__}), flush=True)
for line in sys.stdin:
    n = int(line)
    s = time.perf_counter()
    for _ in range(n):
        store()
    print(json.dumps({"rate": n * per_store / (time.perf_counter() - s)}), flush=True)
'''


def main():
    rounds, stores = int(sys.argv[1]), int(sys.argv[2])
    variants = dict(a.split("=", 1) for a in sys.argv[3:])
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    pg = os.environ.get("AB_PG_URL")
    workers = {}
    for name, pkg in variants.items():
        for cat in ["sqlite"] + (["pg"] if pg else []):
            d = tempfile.mkdtemp(prefix=f"tiny-{name}-{cat}-", dir=os.path.join(repo, "target"))
            env = dict(os.environ, AB_PKG=pkg, AB_DIR=d)
            if cat == "pg":
                env["AB_URL"] = pg.format(name=name)
            p = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, env=env)
            print(name, cat, p.stdout.readline().strip(), file=sys.stderr)
            workers[(name, cat)] = p
    rates = {k: [] for k in workers}
    keys = list(workers)
    for r in range(rounds):
        for k in keys if r % 2 == 0 else reversed(keys):
            p = workers[k]
            p.stdin.write(f"{stores}\n"); p.stdin.flush()
            rate = json.loads(p.stdout.readline())["rate"]
            rates[k].append(rate)
            print(f"round {r} {k[0]} {k[1]} {rate:.1f}/s", flush=True)
    for k, v in rates.items():
        unit = "partitions" if os.environ.get("AB_PARTITIONS") else "stores"
        print(f"{k[0]} {k[1]}: median {statistics.median(v):.1f} {unit}/s "
              f"({1000 / statistics.median(v):.2f} ms each) over {len(v)} rounds of {stores}")
    for p in workers.values():
        p.stdin.close(); p.wait()


if __name__ == "__main__":
    main()
