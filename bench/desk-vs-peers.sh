#!/usr/bin/env bash
# desk-vs-peers.sh [N] - time desk against mbsync, offlineimap and notmuch with
# the shared peer benchmark (../shared/bench): the same throwaway Dovecot, the
# same deterministic corpus, one run, one table. desk joins as the contestant:
#
#   full         desk sync --once into an empty store (parse, threading, FTS)
#   incremental  desk sync --once after INC (100) new messages
#   search       desk search WORD | FROM | PHRASE, the whole process
#   count        messages stored with a UID (completeness check)
#
# Then, on the same server, desk-only figures the harness has no step for:
#   idle         `desk sync` running; IDLE_N (50) messages delivered one by
#                one with doveadm save; delivery -> message in the store,
#                p50/p95/max
#
# Usage (from the repository root):
#   bench/desk-vs-peers.sh 20000        # all steps, RUNS=3
#   bench/desk-vs-peers.sh 2000         # the small mailbox, for the RSS comparison
#   STEPS="contestant" bench/desk-vs-peers.sh 20000    # desk only
#   IDLE_N=0 ...                        # skip the IDLE latency step
# Every harness knob (RUNS, INC, STEPS, BENCH_TLS, TOOL_TIMEOUT) passes through.
# The harness starts its Dovecot with ./setup.sh if none runs (root the first
# time: it installs the peer tools with apt); stop it with ../shared/bench/stop.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
BENCH="${PEERBENCH_DIR:-$REPO/../shared/bench}"
N="${1:-20000}"
IDLE_N="${IDLE_N:-50}"
log() { printf '[desk-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

[[ -x "$BENCH/bench-peers.sh" ]] || { log "no harness at $BENCH (set PEERBENCH_DIR)"; exit 1; }
WORK="${PEERBENCH_WORK:-$(cat "$BENCH/.state" 2>/dev/null || true)}"
if [[ -z "$WORK" || ! -f "$WORK/dovecot.pid" ]] || ! kill -0 "$(cat "$WORK/dovecot.pid")" 2>/dev/null; then
  log "starting the harness's Dovecot"
  "$BENCH/setup.sh" >/dev/null
  WORK="$(cat "$BENCH/.state")"
fi
# shellcheck disable=SC1091
source "$WORK/env.sh"

BIN_DIR="$(mktemp -d -t desk-bench.XXXXXX)"
trap 'rm -rf "$BIN_DIR"' EXIT
log "building desk"
(cd "$REPO" && go build -o "$BIN_DIR/desk" .)
export DESK_BIN="$BIN_DIR/desk"

# The config names the harness's server; the password comes from IMAP_PASS,
# which the harness exports. No SMTP server runs: thank-yous of the
# incremental rounds stay queued (desk dials SMTP once per flush, before
# claiming, so no claim reaches the server).
export CONTESTANT_NAME=desk
export CONTESTANT_SETUP='
  if [[ "$IMAP_TLS" == 1 ]]; then url="imaps://$IMAP_HOST:$IMAP_PORT"; tls="ca_file = \"$IMAP_CA\""; else url="imap://$IMAP_HOST:$IMAP_PORT"; tls="tls = \"none\""; fi
  umask 077
  printf "[accounts.bench]\naddress = \"support@helpdesk.example\"\nimap = \"%s\"\nsmtp = \"smtp://127.0.0.1:1\"\nuser = \"%s\"\npassword_env = \"IMAP_PASS\"\n%s\n" \
    "$url" "$IMAP_USER" "$tls" > "$CONTESTANT_DIR/config.toml"'
DESK_ARGS='--config "$CONTESTANT_DIR/config.toml" --db "$CONTESTANT_DIR/desk.db"'
export CONTESTANT="\"\$DESK_BIN\" sync --once $DESK_ARGS"
export CONTESTANT_SEARCH="\"\$DESK_BIN\" search $DESK_ARGS \"\$QUERY_TERM\""
export CONTESTANT_COUNT='python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM messages WHERE uid IS NOT NULL\").fetchone()[0])" "$CONTESTANT_DIR/desk.db"'

log "harness: N=$N"
"$BENCH/bench-peers.sh" "$N"

[[ "$IDLE_N" -gt 0 ]] || exit 0
# ---------------------------------------------------------------- IDLE latency
log "IDLE: $IDLE_N deliveries into a running desk sync (N=$N)"
D="$BIN_DIR/idle"; mkdir -p "$D"
CONTESTANT_DIR="$D" IMAP_TLS=0 bash -c "$CONTESTANT_SETUP"
"$DESK_BIN" sync --once --config "$D/config.toml" --db "$D/desk.db" 2>/dev/null
"$DESK_BIN" sync --config "$D/config.toml" --db "$D/desk.db" 2>"$D/sync.log" &
SYNC_PID=$!
trap 'kill "$SYNC_PID" 2>/dev/null || true; rm -rf "$BIN_DIR"' EXIT
python3 - "$D/desk.db" "$IDLE_N" "$DOVECOT_CONF" "$IMAP_USER" <<'PY'
import sqlite3, subprocess, sys, time
db, n, conf, user = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
con = sqlite3.connect(db, timeout=10)
time.sleep(1.0)  # let desk sync reach IDLE
lat = []
for i in range(n):
    mid = "idle-%d-%d@bench.example" % (time.time_ns(), i)
    raw = ("From: Idle Bench <idle%d@example.com>\r\nTo: support@helpdesk.example\r\nSubject: idle probe %d\r\n"
           "Message-ID: <%s>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nprobe\r\n" % (i, i, mid)).encode()
    t0 = time.monotonic()
    subprocess.run(["doveadm", "-c", conf, "save", "-u", user, "-m", "INBOX"], input=raw, check=True)
    deadline = t0 + 30
    while time.monotonic() < deadline:
        if con.execute("SELECT 1 FROM messages WHERE message_id = ?", (mid,)).fetchone():
            break
        time.sleep(0.002)
    else:
        sys.exit("message %s not in the store after 30 s" % mid)
    lat.append(time.monotonic() - t0)
    time.sleep(0.2)
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print("| idle | desk | %d deliveries | p50 %.3f s | p95 %.3f s | max %.3f s |" % (n, pick(0.5), pick(0.95), lat[-1]))
PY
kill "$SYNC_PID"; wait "$SYNC_PID" 2>/dev/null || true
# the probes leave the mailbox: the next harness run wants exactly N messages
doveadm -c "$DOVECOT_CONF" expunge -u "$IMAP_USER" mailbox INBOX header Subject "idle probe" ||
  log "warning: the IDLE probes could not be expunged; the next harness run will see $IDLE_N extra messages"
