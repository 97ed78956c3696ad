#!/usr/bin/env bash
# Start to first complete frame of the TUI, the whole process: launch the
# built binary in a detached tmux window of 80×24 on a store, then read the
# pane every 5 ms until the list shows its cursor row and the tab counts.
# The figure includes the process start, the store's open and migration
# check, the first window and counts, and tmux's own delay.
#
# Usage (from the repository root):
#   go run . dev seed --tickets 100000 --db STORE.db
#   bench/tui-start.sh STORE.db [RUNS=10]
#   DESK_BIN=DESK bench/tui-start.sh STORE.db   # a binary built before
set -euo pipefail
DB="${1:?usage: bench/tui-start.sh STORE.db [RUNS]}"
RUNS="${2:-10}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'tmux -L deskbench kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT
if [[ -n "${DESK_BIN:-}" ]]; then cp "$DESK_BIN" "$WORK/desk"; else (cd "$REPO" && go build -o "$WORK/desk" .); fi
: > "$WORK/config.toml" # no account: the TUI opens offline on the store
"$WORK/desk" --config "$WORK/config.toml" --db "$DB" search zzzunseen >/dev/null || true # migrate once, untimed
# A session that outlives the timed ones, so that the tmux server does not
# exit and start again between runs.
tmux -L deskbench new-session -d -s keep -x 80 -y 24 "sleep 3600"
times=()
for ((i = 0; i < RUNS; i++)); do
  start=$(date +%s%N)
  tmux -L deskbench new-session -d -s start -x 80 -y 24 "$WORK/desk --config $WORK/config.toml --db $DB"
  for ((polls = 0; ; polls++)); do
    pane=$(tmux -L deskbench capture-pane -p -t start 2>/dev/null || true)
    if grep -q '›' <<<"$pane" && grep -q 'All [0-9]' <<<"$pane"; then break; fi
    ((polls < 2000)) || { echo "no complete frame after 10 s:" >&2; echo "$pane" >&2; exit 1; }
    sleep 0.005
  done
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
  tmux -L deskbench kill-session -t start
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "start to first complete frame, $RUNS runs (ms): ${times[*]}"
echo "min ${sorted[0]} ms, median ${sorted[$((RUNS / 2))]} ms, max ${sorted[$((RUNS - 1))]} ms (load $(cut -d' ' -f1 /proc/loadavg))"
