#!/bin/sh
# spam-vs-peers.sh — desk's spam filter against bogofilter and SpamAssassin,
# in one run, on the same fixed split of a labelled corpus.
#
# Usage: bench/spam-vs-peers.sh [CORPUS]
#
# CORPUS holds ham/ and spam/ trees of one message per file (default: the
# SpamAssassin corpus in ../shared/corpus/spamassassin beside the repo).
# Each file goes to the training 70 % when the MD5 of its name, read as a
# number from its first 8 hex digits, is below 70 modulo 100 (the rule of
# mail/spam/corpus_test.go); the rest is the test 30 %. Every tool is
# trained on the training part only and run with its defaults:
#   desk          `desk spam train` (threshold by 5-fold cross-validation
#                 inside the training part), then `desk spam score --json`
#   bogofilter    -C (built-in defaults), -n/-s registration, -T -B scoring;
#                 "unsure" counts as ham
#   SpamAssassin  local tests only (-L: no network tests), Bayes trained by
#                 sa-learn, auto-learning off, one process over an mbox
# ms/message is the wall time, and CPU ms/message the user + system time,
# of the scoring command divided by the number of test messages (process
# start and database load included).
#
# Needs: go, bogofilter, spamassassin (apt-get install -y bogofilter spamassassin).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:-$root/../shared/corpus/spamassassin}
[ -d "$corpus/ham" ] && [ -d "$corpus/spam" ] || { echo "no ham/ and spam/ under $corpus" >&2; exit 2; }
for tool in go bogofilter spamassassin sa-learn perl /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y bogofilter spamassassin time)" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
(cd "$root" && go build -o "$work/desk" .)

# timed NAME CMD…: runs CMD, writing "WALL_MS CPU_MS" (CPU: user + system
# of the command and its children, which other load on the machine does
# not inflate) to $work/NAME.time.
timed() {
	name=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$work/$name.t" "$@" || true
	# (the last line: time first notes a non-zero exit status)
	tail -n 1 "$work/$name.t" | awk '{printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000}' >"$work/$name.time"
}

# The split, as symbolic links; test.list holds "PATH LABEL". (perl comes
# with SpamAssassin.)
for class in ham spam; do
	mkdir -p "$work/train/$class" "$work/test/$class"
	find "$corpus/$class" -type f | sort | perl -MDigest::MD5=md5_hex -MFile::Basename -nle '
		BEGIN { ($work, $class) = splice(@ARGV, 0, 2) }
		my $b = basename($_);
		my $part = hex(substr(md5_hex($b), 0, 8)) % 100 < 70 ? "train" : "test";
		symlink($_, "$work/$part/$class/$b") or die "$b: $!\n";' "$work" "$class"
done
find "$work/test/ham" -type l | sort | sed 's/$/ ham/' >"$work/test.list"
find "$work/test/spam" -type l | sort | sed 's/$/ spam/' >>"$work/test.list"
n=$(wc -l <"$work/test.list")
echo "corpus: $corpus"
echo "training: $(ls "$work/train/ham" | wc -l) ham, $(ls "$work/train/spam" | wc -l) spam; test: $n messages"
echo

# desk: train, then score every test message in one process.
"$work/desk" spam train --db "$work/desk.db" --ham "$work/train/ham" --spam "$work/train/spam" | sed 's/^/desk: /'
cut -d' ' -f1 "$work/test.list" >"$work/test.paths"
timed desk xargs -a "$work/test.paths" "$work/desk" spam score --db "$work/desk.db" --json >"$work/desk.json"
# PATH VERDICT LANG, from the indented JSON (fields in a fixed order).
awk -F'"' '/"path":/ {p=$4} /"verdict":/ {v=$4} /"lang":/ {print p, v, $4}' "$work/desk.json" >"$work/desk.out"
awk '{print $1, $3}' "$work/desk.out" >"$work/lang"

# bogofilter.
mkdir "$work/bogo"
bogofilter -C -d "$work/bogo" -n -B "$work/train/ham"
bogofilter -C -d "$work/bogo" -s -B "$work/train/spam"
# (its exit status says spam or ham; the table shows any message it skipped)
timed bogo xargs -a "$work/test.paths" bogofilter -C -d "$work/bogo" -T -B >"$work/bogo.raw"
awk '{print $1, ($2 == "S" ? "spam" : "ham")}' "$work/bogo.raw" >"$work/bogo.out"

# SpamAssassin: local tests, Bayes on the training part, one mbox of the
# test part whose envelope lines number the messages.
mkdir "$work/sa"
cat >"$work/sa/prefs" <<EOF
use_bayes 1
bayes_auto_learn 0
bayes_path $work/sa/bayes
EOF
sa-learn -L -p "$work/sa/prefs" --ham "$work/train/ham" >/dev/null
sa-learn -L -p "$work/sa/prefs" --spam "$work/train/spam" >/dev/null
i=0
while read -r f _; do
	i=$((i + 1))
	printf 'From desk-bench-%d@localhost Thu Jan  1 00:00:00 2002\n' "$i"
	sed '1{/^From /d}; s/^\(>*From \)/>\1/' "$f"
	printf '\n'
done <"$work/test.list" >"$work/test.mbox"
timed sa spamassassin -L -p "$work/sa/prefs" --mbox <"$work/test.mbox" >"$work/sa.mbox" 2>"$work/sa.err"
awk 'NR == FNR {path[FNR] = $1; next}
	/^From desk-bench-[0-9]+@localhost / {split($2, a, /[-@]/); n = a[3]; next}
	/^X-Spam-Status:/ && !(n in seen) {seen[n] = 1; print path[n], ($2 ~ /^Yes/ ? "spam" : "ham")}' \
	"$work/test.list" "$work/sa.mbox" >"$work/sa.out"

# One table: precision, recall, F1, false-positive rate, ms/message, and
# recall per language (by the script of the text, as desk reads it).
report() { # NAME OUT TIMEFILE
	read -r wall cpu <"$3"
	awk -v name="$1" -v ms="$wall" -v cpu="$cpu" -v n="$n" '
		FILENAME == ARGV[1] {label[$1] = $2; next}
		FILENAME == ARGV[2] {lang[$1] = $2; next}
		{
			seen++; l = label[$1]; said = $2; g = lang[$1]
			if (l == "spam") { total[g]++; if (said == "spam") { tp++; caught[g]++ } else fn++ }
			else if (said == "spam") fp++; else tn++
		}
		END {
			p = tp + fp ? tp / (tp + fp) : 0; r = tp + fn ? tp / (tp + fn) : 0
			f1 = p + r ? 2 * p * r / (p + r) : 0
			langs = ""
			for (g in total) langs = langs sprintf(" %s %d/%d", g, caught[g], total[g])
			printf "%-13s %9.4f %7.4f %7.4f %8.4f %4d %4d %9.3f %9.3f %s%s\n", name, p, r, f1, fp / (fp + tn), fp, fn, ms / n, cpu / n, langs, (seen == n ? "" : sprintf("  (only %d of %d scored)", seen, n))
		}' "$work/test.list" "$work/lang" "$2"
}
echo
printf '%-13s %9s %7s %7s %8s %4s %4s %9s %9s %s\n' tool precision recall F1 FPR FP FN ms/msg cpu-ms/msg "spam caught per language"
report desk "$work/desk.out" "$work/desk.time"
report bogofilter "$work/bogo.out" "$work/bogo.time"
report spamassassin "$work/sa.out" "$work/sa.time"
