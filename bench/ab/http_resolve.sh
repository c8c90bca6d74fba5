#!/usr/bin/env bash
# A/B of HTTP resolve (issue 7, case 5) between two `meta` binaries, interleaved
# on one catalog: A B A B ... , wrk -t2 -c64 --latency, one random partition
# per request. Prints one line per run and the medians.
#
#   bench/ab/http_resolve.sh OLD_META NEW_META [ROUNDS] [PARTITIONS] [SECONDS]
#
# The table (bench.big, one row per partition, `part` key) is built with
# NEW_META's `meta put` in a fresh directory under target/bench/ab.
set -euo pipefail
A="$1"; B="$2"; ROUNDS="${3:-5}"; PARTS="${4:-1000}"; SECS="${5:-10}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="$ROOT/target/bench/ab/http-$PARTS"
if [ ! -f "$DIR/built" ]; then
    rm -rf "$DIR"; mkdir -p "$DIR/warehouse"
    M=("$B" --url "$DIR")
    "${M[@]}" ns create bench >/dev/null
    "${M[@]}" table create bench.big --columns 'v:int64' --partition-by part:int64 >/dev/null
    printf 'v\n1\n' > "$DIR/one.csv"
    seq 0 $((PARTS - 1)) | xargs -P 2 -I{} "${M[@]}" put bench.big part={} "$DIR/one.csv" >/dev/null 2>&1
    touch "$DIR/built"
fi
cat > "$DIR/resolve.lua" <<LUA
math.randomseed(7)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = string.format('{"partitions": ["part=%d"]}', math.random(0, $PARTS - 1))
  return wrk.format(nil, "/v1/namespaces/bench/tables/big/resolve", nil, body)
end
LUA
run() { # binary label
    local port; port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    BATCHMETA_LOG=warn "$1" serve --bind "127.0.0.1:$port" --database-url "sqlite://$DIR/catalog.db" \
        --warehouse "$DIR/warehouse" >>"$DIR/serve-$2.log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
    # a warm-up, then the measured run
    wrk -t2 -c64 -d2s -s "$DIR/resolve.lua" "http://127.0.0.1:$port" >/dev/null
    local out; out=$(wrk -t2 -c64 -d"${SECS}s" --latency -s "$DIR/resolve.lua" "http://127.0.0.1:$port")
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
    med[label] = (statistics.median(float(x["rps"]) for x in r), statistics.median(ms(x["p99"]) for x in r), statistics.median(ms(x["p50"]) for x in r))
    print(f"{label}: median {med[label][0]:,.0f} req/s, p50 {med[label][2]:.2f} ms, p99 {med[label][1]:.2f} ms over {len(r)} runs")
print(f"B/A requests/s: {med['B'][0] / med['A'][0]:.2f}x; p99 A/B: {med['A'][1] / med['B'][1]:.2f}x")
PY
