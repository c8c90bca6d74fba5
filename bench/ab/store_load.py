"""A/B of case 1 (store / load one 333,348-row partition, embedded), with raw
pyarrow's write in the same rounds: one persistent worker process per
variant, rounds interleaved (the order alternates every round).

usage: python bench/ab/store_load.py ROUNDS base=DIR new=DIR
(each DIR holds a built ``batchmeta`` package, e.g. a copy of
bindings/python/python from another checkout; ``name=DIR,VAR=VALUE`` also
sets an environment variable for that variant; AB_OPS=store,raw,load,resolve;
resolve is the time of one `files()` call, a resolve of one partition, the
mean of 200 calls per round)
"""
import json, os, shutil, subprocess, sys, statistics, tempfile, time

WORKER = r'''
import sys, os, time, json
sys.path.insert(0, os.environ["AB_PKG"])
sys.path.insert(0, os.environ["AB_REPO"])
import batchmeta as bm, pyarrow as pa, pyarrow.parquet as pq
from bench.data import make_frame
from bench.systems.batchmeta_table import BatchmetaTable
d = os.environ["AB_DIR"]
RESOLVES = 200
frame = make_frame(333_348)
filler = frame.slice(0, 33_334)
t = BatchmetaTable(bm.Client(os.path.join(d, "bm")), "store_load", "x")
t.create(filler)
for p in range(30):
    t.store(filler, p)
n = 0
print(json.dumps({"ready": bm.__file__}), flush=True)
for line in sys.stdin:
    op = line.strip()
    s = time.perf_counter()
    if op == "store":
        t.store(frame, 7)
    elif op == "load":
        x = t.load_arrow(7); assert x.num_rows == frame.num_rows
    elif op == "resolve":
        for i in range(RESOLVES):
            assert t.files(i % 30)
    elif op == "raw":
        n += 1
        path = os.path.join(d, f"raw-{n}"); os.makedirs(path)
        pq.write_table(frame, os.path.join(path, "data.parquet"), compression="zstd")
    e = (time.perf_counter() - s) / (RESOLVES if op == "resolve" else 1)
    print(json.dumps({"op": op, "s": e}), flush=True)
'''

def main():
    rounds = int(sys.argv[1])
    variants = dict(a.split("=", 1) for a in sys.argv[2:])
    ops = os.environ.get("AB_OPS", "store,raw,load,resolve").split(",")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    workers = {}
    for name, spec in variants.items():
        pkg, *extra = spec.split(",")
        d = tempfile.mkdtemp(prefix=f"ab-{name}-", dir=os.environ.get("AB_TMP", os.path.join(repo, "target")))
        env = dict(os.environ, AB_PKG=pkg, AB_REPO=repo, AB_DIR=d, **dict(e.split("=", 1) for e in extra))
        p = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        print(name, p.stdout.readline().strip(), file=sys.stderr)
        workers[name] = (p, d)
    samples = {}
    for r in range(rounds + 1):
        order = [(n, p) for n, (p, _) in workers.items()]
        order = order if r % 2 == 0 else order[::-1]
        for op in ops:
            for name, p in order:
                if op == "raw" and name != list(workers)[0]:
                    continue
                p.stdin.write(op + "\n"); p.stdin.flush()
                s = json.loads(p.stdout.readline())["s"]
                if r > 0:
                    samples.setdefault(f"{op}/{name}" if op != "raw" else "raw", []).append(s)
    for p, d in workers.values():
        p.stdin.close(); p.wait()
        shutil.rmtree(d, ignore_errors=True)
    raw = samples.get("raw")
    for k, v in samples.items():
        med, mn = statistics.median(v), min(v)
        extra = ""
        if raw and k.startswith("store/"):
            ratios = [a / b for a, b in zip(v, raw)]
            extra = f"  ÷raw median {med/statistics.median(raw):.2f}x (paired median {statistics.median(ratios):.2f}x), min/min {mn/min(raw):.2f}x"
        print(f"{k:14s} median {med*1000:9.3f} ms  min {mn*1000:9.3f} ms{extra}")

main()
