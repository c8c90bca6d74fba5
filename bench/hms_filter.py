"""get_partitions_by_filter latency over the Hive Metastore Thrift edge on a
table of N int-keyed partitions (default 10,000). Standalone, not yet a
case of `make bench`:

    .venv/bin/python bench/hms_filter.py 10000

Uses target/debug/meta (or $BATCHMETA_META_BIN) on SQLite in a temp dir,
the batchmeta wheel and thriftpy2 from the project venv."""
import os, socket, subprocess, sys, tempfile, time, statistics
import pandas as pd
import batchmeta as bm
import thriftpy2
from thriftpy2.rpc import make_client

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
root = tempfile.mkdtemp(prefix="hms-bench-")
here = os.path.dirname(os.path.abspath(__file__))
meta = os.environ.get("BATCHMETA_META_BIN", os.path.join(here, "..", "target", "debug", "meta"))
idl = os.path.join(here, "..", "bindings", "python", "tests", "hms", "hive_metastore.thrift")
def port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
hp, tp = port(), port()
proc = subprocess.Popen([meta, "serve", "--bind", f"127.0.0.1:{hp}",
    "--database-url", f"sqlite://{root}/c.db", "--warehouse", f"{root}/wh", "--hms-bind", f"127.0.0.1:{tp}"],
    stderr=subprocess.DEVNULL)
time.sleep(2)
try:
    c = bm.Client(f"http://127.0.0.1:{hp}")
    df = pd.DataFrame({"n": list(range(N)), "x": [1.0] * N})
    c.create_namespace("bench", exist_ok=True)
    t0 = time.perf_counter()
    c.store_dataframe(df, "bench", "t", partition_by=["n"])
    print(f"stored {N} partitions in {time.perf_counter()-t0:.1f}s")
    hms = thriftpy2.load(idl, module_name="b_thrift")
    cl = make_client(hms.ThriftHiveMetastore, "127.0.0.1", tp, timeout=600000)
    def timeit(label, f, reps):
        ts = []
        for _ in range(reps):
            t = time.perf_counter(); r = f(); ts.append(time.perf_counter() - t)
        print(f"{label}: {len(r)} partitions, median {statistics.median(ts)*1000:.1f} ms over {reps}")
    timeit("equality n = N/2", lambda: cl.get_partitions_by_filter("bench", "t", f"n = {N//2}", -1), 20)
    lo = N // 2; hi = lo + N // 100 - 1
    timeit("1% range", lambda: cl.get_partitions_by_filter("bench", "t", f"n >= {lo} and n <= {hi}", -1), 10)
    timeit("no pushdown (n != -1 on every partition)", lambda: cl.get_partitions_by_filter("bench", "t", "n != -1", -1), 3)
    timeit("get_partition_names all", lambda: cl.get_partition_names("bench", "t", -1), 3)
finally:
    proc.terminate(); proc.wait()
    subprocess.run(["rm", "-rf", root])
