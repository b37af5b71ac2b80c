#!/usr/bin/env bash
# Two checkouts' `import_bench.py --orders 50000 --small 10000`, alternating, twice each, in one
# run:
#
#     flock /work/tools/bench.lock bench/import_compare.sh BEFORE_CHECKOUT AFTER_CHECKOUT
#
# Each checkout needs its own .venv (scripts/bootstrap.sh). Both load into
# BENCH_IMPORT_DATABASE_URL (import_bench.py's default when unset). Prints each run's table rows
# with the checkout's commit and the load average before it; the full tables go to
# bench/out/import-<side>-<round>.md, not to RESULTS.md.
set -euo pipefail

before="$(cd "${1:?BEFORE checkout}" && pwd)"
after="$(cd "${2:?AFTER checkout}" && pwd)"
out="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/out"
mkdir -p "$out"

for round in 1 2; do
    for side in before after; do
        dir="$before"
        [[ $side == after ]] && dir="$after"
        echo "== round $round, $side ($(git -C "$dir" rev-parse --short HEAD)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
        (cd "$dir" && .venv/bin/python bench/import_bench.py --orders 50000 --small 10000 \
            --results "$out/import-$side-$round.md" | tail -3)
    done
done
