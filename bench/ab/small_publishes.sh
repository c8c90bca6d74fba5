#!/usr/bin/env bash
# A/B of successive small durable publishes (issue 7, case 2, one writer)
# between two `meta` binaries, interleaved A B A B ...: `meta serve` on the
# embedded SQLite catalog, and wrk with ONE connection POSTing a 1-row Parquet
# file to /store (stage + write the file + record + publish, one call) of one
# partition, so requests/s = publishes/s. Prints one line per run and the medians.
#
#   bench/ab/small_publishes.sh OLD_META NEW_META [ROUNDS] [SECONDS]
set -euo pipefail
A="$1"; B="$2"; ROUNDS="${3:-5}"; SECS="${4:-10}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="$ROOT/target/bench/ab/publish"
rm -rf "$DIR"; mkdir -p "$DIR/warehouse"
M=("$B" --url "$DIR")
"${M[@]}" ns create bench >/dev/null
"${M[@]}" table create bench.tiny --columns 'v:int64' --partition-by part:int64 >/dev/null
printf 'v\n1\n' > "$DIR/one.csv"
"${M[@]}" put bench.tiny part=0 "$DIR/one.csv" >/dev/null 2>&1
"${M[@]}" get bench.tiny part=0 --columns v -o "$DIR/one.parquet" >/dev/null
cat > "$DIR/store.lua" <<LUA
local f = assert(io.open("$DIR/one.parquet", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/vnd.apache.parquet"
wrk.path = "/v1/namespaces/bench/tables/tiny/store?partition=part%3D0"
LUA
run() { # binary label
    local port; port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    BATCHMETA_LOG=warn "$1" serve --bind "127.0.0.1:$port" --database-url "sqlite://$DIR/catalog.db" \
        --warehouse "$DIR/warehouse" >>"$DIR/serve-$2.log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
    wrk -t1 -c1 -d1s -s "$DIR/store.lua" "http://127.0.0.1:$port" >/dev/null
    local out; out=$(wrk -t1 -c1 -d"${SECS}s" --latency -s "$DIR/store.lua" "http://127.0.0.1:$port")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    local rps p50 p99 non
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    p50=$(awk '$1=="50%"{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
    non=$(awk '/Non-2xx/{print $5}' <<<"$out")
    echo "$2 rps=$rps p50=$p50 p99=$p99 non2xx=${non:-0} load=$(cut -d' ' -f1 /proc/loadavg)"
}
for i in $(seq "$ROUNDS"); do run "$A" A; run "$B" B; done | tee "$DIR/results.txt"
python3 - "$DIR/results.txt" <<'PY'
import re, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def ms(v):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", v); return float(m[1]) * {"us": 1e-3, "ms": 1, "s": 1e3}[m[2]]
med = {}
for label in "AB":
    r = [dict(kv.split("=") for kv in row[1:]) for row in rows if row[0] == label]
    med[label] = statistics.median(float(x["rps"]) for x in r)
    print(f"{label}: median {med[label]:,.1f} publishes/s, median p50 {statistics.median(ms(x['p50']) for x in r):.2f} ms over {len(r)} runs")
print(f"B/A publishes/s: {med['B'] / med['A']:.2f}x")
PY
