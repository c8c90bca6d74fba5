"""A/B of case 6: peak RSS of bench.memory_probe (store, then load, of ROWS
rows, each in a fresh process), variants interleaved.

usage: python bench/ab/memory.py ROWS ROUNDS base=PKGDIR new=PKGDIR
(each PKGDIR holds a built ``batchmeta`` package; it goes first on PYTHONPATH)
"""
import json, os, subprocess, sys, tempfile, shutil
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
import pyarrow as pa
from bench.data import make_frame
rows, rounds = int(sys.argv[1]), int(sys.argv[2])
variants = dict(a.split("=", 1) for a in sys.argv[3:])
tmp = tempfile.mkdtemp(dir=os.path.join(REPO, "target"))
frame_path = os.path.join(tmp, "frame.arrow")
frame = make_frame(rows)
with pa.OSFile(frame_path, "wb") as sink, pa.ipc.new_file(sink, frame.schema) as w:
    w.write_table(frame, max_chunksize=rows)
fb = frame.nbytes; del frame
print(f"frame {fb/2**20:.0f} MiB")
for r in range(rounds):
    for name, pkg in (variants.items() if r % 2 == 0 else reversed(list(variants.items()))):
        d = os.path.join(tmp, f"{name}-{r}"); os.makedirs(d)
        for op in ("store", "load"):
            cmd = [sys.executable, "-m", "bench.memory_probe", "--system", "batchmeta", "--operation", op, "--directory", d]
            if op == "store": cmd += ["--frame", frame_path]
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=dict(os.environ, PYTHONPATH=pkg))
            if out.returncode: print(out.stderr); sys.exit(1)
            j = json.loads(out.stdout)
            above = j["peak_bytes"] - j["baseline_bytes"]
            print(f"round {r} {name:5s} {op:5s} peak/frame {above/fb:.3f}  ({above/2**20:.0f} MiB above baseline, {j['seconds']:.2f} s, table {j['table_bytes']/2**20:.0f} MiB)", flush=True)
        shutil.rmtree(d)
shutil.rmtree(tmp)
