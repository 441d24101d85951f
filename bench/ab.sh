#!/bin/sh
# bench/ab.sh compares the chatd of two or more revisions on one chatbench
# load, their runs rotating round by round so that all of them see the same
# machine (on a shared machine, runs taken minutes apart differ by more
# than most changes do):
#
#	bench/ab.sh 0ce5d22 8a229e3 HEAD      # the paced target, 8 rounds
#	ROUNDS=16 ARGS='-clients 50 -rooms 1 -senders 50 -lines 200 -size 32' bench/ab.sh 0ce5d22 HEAD
#
# ARGS are chatbench's load flags (default: the paced target), FLAGS
# chatd's own. Each revision's chatd is built from `git archive` (the
# working tree is not touched). The reports go to
# $OUT/results/ab-REV/1/ROUND.json (OUT defaults to a new temporary
# directory), cmd/benchplot summarises them in $OUT/summary.md (median
# [min–max] of server CPU per delivery, latency, load average), which is
# printed. Every run is bounded (chatbench -timeout 2m).
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || {
	echo "usage: bench/ab.sh REV REV... (ROUNDS=8 ARGS='chatbench flags' FLAGS='chatd flags' OUT=dir)" >&2
	exit 2
}
ROUNDS=${ROUNDS:-8}
ARGS=${ARGS:--clients 50 -rooms 1 -senders 50 -lines 200 -size 32 -rate 50}
FLAGS=${FLAGS:-}
OUT=${OUT:-$(mktemp -d)}

BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/chatbench" ./cmd/chatbench
revs=
for r in "$@"; do
	rev=$(git rev-parse --short "$r")
	src=$(mktemp -d)
	git archive "$rev" | tar -x -C "$src"
	(cd "$src" && go build -o "$BIN/chatd-$rev" ./cmd/chatd)
	rm -rf "$src"
	rm -rf "$OUT/results/ab-$rev"
	mkdir -p "$OUT/results/ab-$rev/1"
	revs="$revs $rev"
done
echo "# $(date -u +%Y-%m-%dT%H:%MZ) bench/ab.sh$revs; chatd$FLAGS; chatbench $ARGS; $ROUNDS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"

n=0
round=1
while [ "$round" -le "$ROUNDS" ]; do
	# Rotate the order: round r starts with the revision after the one
	# round r-1 started with.
	set -- $revs
	k=$(((round - 1) % $#))
	while [ "$k" -gt 0 ]; do
		first=$1
		shift
		set -- "$@" "$first"
		k=$((k - 1))
	done
	for rev in "$@"; do
		# $ARGS is split on purpose.
		# shellcheck disable=SC2086
		if ! "$BIN/chatbench" -json -progress off -timeout 2m \
			-exec "$BIN/chatd-$rev -addr 127.0.0.1:{port}$FLAGS" $ARGS >"$OUT/results/ab-$rev/1/$round.json"; then
			echo "  $rev round $round FAILED (see $OUT/results/ab-$rev/1/$round.json)"
			n=$((n + 1))
		fi
	done
	round=$((round + 1))
done
echo "# done; load average $(cut -d' ' -f1-3 /proc/loadavg)"
go run ./cmd/benchplot -in "$OUT/results" -out "$OUT" >/dev/null
cat "$OUT/summary.md"
[ "$n" -eq 0 ]
