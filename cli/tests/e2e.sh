#!/usr/bin/env bash
# The CLI tour of docs/cli.md, as a new user runs it, with every output checked.
# Run it in an empty directory with `meta` on PATH (it uses the embedded
# default catalog, .batchmeta/, in that directory). If sold.parquet is there
# (the Rust test writes one: columns id int64, price float64, name string)
# the third batch is stored from it; otherwise the script makes one with
# `meta get`.
set -euo pipefail
export NO_COLOR=1

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect DESCRIPTION NEEDLE TEXT: TEXT must contain NEEDLE.
expect() { grep -qF -- "$2" <<<"$3" || fail "$1: expected '$2' in:"$'\n'"$3"; }
# count NEEDLE TEXT: how many lines of TEXT contain NEEDLE.
count() { grep -cF -- "$1" <<<"$2" || true; }
# status COMMAND...: runs a command that may fail and prints its exit status.
status() { set +e; "$@" >/dev/null 2>err.txt; local s=$?; set -e; echo "$s"; }

step() { echo "--- $*"; }

step "create a namespace and a table"
meta ns create sales --description "what we sold"
out=$(meta table create sales.sold_items --columns 'id:int64,price:float64,name:string' --partition-by date:date)
expect "table create" "created table sales.sold_items" "$out"
expect "table ls" "date:date" "$(meta table ls)"

step "put three batches"
printf 'id,price,name\n1,9.5,apple\n2,3.25,pear\n' > day1.csv
out=$(meta put sales.sold_items date=2016-10-31 day1.csv -m "first load")
expect "put 1" "published sales.sold_items date=2016-10-31 batch" "$out"
expect "put 1 rows" "(2 rows, 1 file," "$out"
b1=$(awk '{print $5}' <<<"$out")
[[ $b1 =~ ^[0-9]{20}$ ]] || fail "batch id of put 1: $b1"

printf 'id,price,name\n1,9.5,apple\n2,3.25,pear\n3,1.0,plum\n' > day1-fixed.csv
json=$(meta put sales.sold_items date=2016-10-31 day1-fixed.csv -m "with plums" --output json)
b2=$(sed -n 's/^  "batch": "\([0-9]*\)",$/\1/p' <<<"$json")
[[ $b2 =~ ^[0-9]{20}$ ]] || fail "batch id of put 2: $json"
expect "put 2 parent" "\"parent\": \"$b1\"" "$json"

[[ -f sold.parquet ]] || meta get sales.sold_items date=2016-10-31 -o sold.parquet
out=$(meta put sales.sold_items date=2016-10-31 sold.parquet --expect "$b2" -m "from parquet")
b3=$(awk '{print $5}' <<<"$out")
[[ $b3 > $b2 && $b2 > $b1 ]] || fail "batch ids increase: $b1 $b2 $b3"

step "a writer that expects an old batch is refused and told what to do"
[[ $(status meta put sales.sold_items date=2016-10-31 day1.csv --expect "$b1") == 1 ]] || fail "conflict exit"
expect "conflict hint" "--expect $b3" "$(cat err.txt)"

step "history"
out=$(meta history sales.sold_items date=2016-10-31)
[[ $(count publish "$out") == 3 ]] || fail "history shows 3 publishes:"$'\n'"$out"
expect "history newest first" "$b3" "$(sed -n 2p <<<"$out")"
expect "history message" "first load" "$out"

step "rollback"
out=$(meta rollback sales.sold_items date=2016-10-31 -m "bad upstream data")
expect "rollback" "$b3 -> $b2" "$out"
expect "partitions" "$b2" "$(meta partitions sales.sold_items)"

step "files"
out=$(meta files sales.sold_items date=2016-10-31)
expect "files" "/$b2/" "$out"
file=${out#file://}
[[ -f $file ]] || fail "files prints a readable URI: $out"
meta get sales.sold_items date=2016-10-31 -o now.csv
[[ $(wc -l < now.csv) == 4 ]] || fail "get reads the rolled-back batch: $(cat now.csv)"
expect "get" "plum" "$(cat now.csv)"

step "audit"
out=$(meta audit --since 1h --table sales.sold_items)
[[ $(count " publish " "$out") == 3 ]] || fail "audit shows 3 publishes:"$'\n'"$out"
expect "audit rollback" "bad upstream data" "$out"
expect "audit principal" "${USER:-${LOGNAME:-anonymous}}" "$out"
[[ $(status meta audit --since yesterday) == 1 ]] || fail "bad --since exit"
expect "audit hint" "hint:" "$(cat err.txt)"

step "pin"
out=$(meta pin create sales.sold_items weekly_report --partition date=2016-10-31 --reason "Q4 numbers")
expect "pin create" "pinned sales.sold_items date=2016-10-31 batch $b2 as weekly_report" "$out"
expect "pin ls" "Q4 numbers" "$(meta pin ls sales.sold_items)"
expect "pin files" "/$b2/" "$(meta files sales.sold_items date=2016-10-31 --pin weekly_report)"

step "verify"
expect "verify" "no violations" "$(meta verify)"

step "bad input exits 1 and changes nothing"
before=$(meta audit --output json)
[[ $(status meta put sales.sold_items date=2016-13-45 day1.csv) == 1 ]] || fail "bad partition exit"
expect "bad partition" "expected a date" "$(cat err.txt)"
[[ $(status meta put sales.nope date=2016-10-31 day1.csv) == 1 ]] || fail "unknown table exit"
[[ $(status meta put sales.sold_items date=2016-10-31 missing.csv) == 1 ]] || fail "missing file exit"
[[ $(status meta rollback sales.sold_items date=2016-10-31 --to 123) == 1 ]] || fail "bad batch id exit"
printf 'id,colour\n1,red\n' > wrong.csv
[[ $(status meta put sales.sold_items date=2016-10-31 wrong.csv) == 1 ]] || fail "wrong schema exit"
expect "wrong schema hint" "hint:" "$(cat err.txt)"
[[ $(meta audit --output json) == "$before" ]] || fail "bad input changed the audit trail"

echo "e2e: all checks passed"
