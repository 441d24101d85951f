#!/bin/sh
# bench/run.sh runs every measurement of BENCHMARKS.md and draws its plots:
#
#	bench/run.sh                      # everything, 3 runs per point (~15-20 min)
#	REPS=1 bench/run.sh               # one run per point
#	BASELINE=a4e6e21 bench/run.sh     # also measure the server of that revision
#	ONLY='target idle' bench/run.sh   # only the groups named (see below)
#
# Groups: target roomsize rooms rate coalesce idle baseline gobench modelcheck.
# Each chatbench run starts its own chatd (-exec) on a free loopback port,
# checks every delivery and writes its JSON report to
# $OUT/results/SERIES/X/REP.json; cmd/benchplot then turns them into
# $OUT/*.svg and $OUT/summary.md. The Go benchmarks go to $OUT/gobench.txt,
# the model check's throughput to $OUT/modelcheck.txt, the commands run
# (appended) to $OUT/run.log. Every run is bounded (chatbench -timeout 2m).
# OUT defaults to docs/bench; BASELINE needs a git checkout.
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-docs/bench}
REPS=${REPS:-3}
ONLY=${ONLY:-target roomsize rooms rate coalesce idle baseline gobench modelcheck}
BASELINE=${BASELINE:-}

BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/chatd" ./cmd/chatd
go build -o "$BIN/chatbench" ./cmd/chatbench
mkdir -p "$OUT/results"
LOG=$OUT/run.log
echo "# $(date -u +%Y-%m-%dT%H:%MZ) ONLY='$ONLY' REPS=$REPS BASELINE=$BASELINE; $(nproc) CPUs, $(go version); load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$LOG"
FAILED=0

want() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# bench SERIES X REPS 'CHATD FLAGS' CHATBENCH ARGS...: REPS runs of one point.
bench() {
	series=$1 x=$2 reps=$3 flags=$4
	shift 4
	dir=$OUT/results/$series/$x
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "chatbench -exec 'chatd -addr 127.0.0.1:{port}$flags' $*   # $series x=$x, $reps runs" | tee -a "$LOG"
	i=1
	while [ "$i" -le "$reps" ]; do
		if ! "$BIN/chatbench" -json -progress off -timeout 2m \
			-exec "${CHATD:-$BIN/chatd} -addr 127.0.0.1:{port}$flags" "$@" >"$dir/$i.json" 2>>"$LOG"; then
			echo "  run $i FAILED (see $dir/$i.json)" | tee -a "$LOG"
			FAILED=1
		fi
		i=$((i + 1))
	done
}

# The targets of the performance issue, 5 runs each.
if want target; then
	bench target-flat 1 5 '' -clients 50 -rooms 1 -senders 50 -lines 200 -size 32
	bench target-paced 1 5 '' -clients 50 -rooms 1 -senders 50 -lines 200 -size 32 -rate 50
fi

# One room of M members; 10 senders; flat out and paced at ~100,000
# deliveries/s, both about 400,000 deliveries. Joining 5,000 members costs
# 12.5 million roster lines, so that size runs once.
if want roomsize; then
	for m in 10 100 1000 5000; do
		reps=$REPS
		[ "$m" -eq 5000 ] && reps=1
		lines=$((40000 / m))
		bench roomsize-flat "$m" "$reps" '' -clients "$m" -senders 10 -lines "$lines"
		bench roomsize-paced "$m" "$reps" '' -clients "$m" -senders 10 -lines "$lines" -rate "$((lines / 4))"
	done
fi

# 1,000 clients in R rooms; 50 senders; flat out (1,000,000 deliveries) and
# paced at 50,000 deliveries/s for 4 s.
if want rooms; then
	for r in 1 10 100 1000; do
		bench rooms-flat "$r" "$REPS" '' -clients 1000 -rooms "$r" -senders 50 -lines "$((20 * r))"
		bench rooms-paced "$r" "$REPS" '' -clients 1000 -rooms "$r" -senders 50 -lines "$((4 * r))" -rate "$r"
	done
fi

# 50 clients in one room, all sending, paced at L lines/s each for 4 s,
# with the default write coalescing and without. X is lines/s in all.
if want rate; then
	for l in 10 20 50 100 200 500; do
		bench rate "$((50 * l))" "$REPS" '' -clients 50 -senders 50 -lines "$((4 * l))" -rate "$l"
		bench rate-nocoalesce "$((50 * l))" "$REPS" ' -coalesce -1ns' -clients 50 -senders 50 -lines "$((4 * l))" -rate "$l"
	done
fi

# The paced target under each -coalesce delay. X is the delay in ms.
if want coalesce; then
	for d in 0 0.25 0.5 1 2 4; do
		flag=" -coalesce ${d}ms"
		[ "$d" = 0 ] && flag=' -coalesce -1ns'
		bench coalesce "$d" "$REPS" "$flag" -clients 50 -senders 50 -lines 200 -rate 50
	done
fi

# N idle connections, each registered, held 5 s, then each must answer PING.
if want idle; then
	for n in 1000 10000 19000; do
		bench idle "$n" "$REPS" ' -max-clients 19500' -idle "$n" -hold 5s
	done
fi

# The server of another revision, on the targets.
if want baseline && [ -n "$BASELINE" ]; then
	src=$(mktemp -d)
	git archive "$BASELINE" | tar -x -C "$src"
	(cd "$src" && go build -o "$BIN/chatd-base" ./cmd/chatd)
	rm -rf "$src"
	echo "# baseline: chatd of $BASELINE" | tee -a "$LOG"
	CHATD=$BIN/chatd-base bench base-target-flat 1 5 '' -clients 50 -rooms 1 -senders 50 -lines 200 -size 32
	CHATD=$BIN/chatd-base bench base-target-paced 1 5 '' -clients 50 -rooms 1 -senders 50 -lines 200 -size 32 -rate 50
	for n in 1000 10000 19000; do
		CHATD=$BIN/chatd-base bench base-idle "$n" "$REPS" ' -max-clients 19500' -idle "$n" -hold 5s
	done
fi

if want gobench; then
	echo "go test -run '^\$' -bench . -benchmem -count $REPS ./spec ./impl" | tee -a "$LOG"
	go test -run '^$' -bench . -benchmem -count "$REPS" ./spec ./impl >"$OUT/gobench.txt"
fi

if want modelcheck; then
	echo "go test -count=1 ./impl -run TestModelCheck -rapid.checks=2000 -v   # $REPS runs" | tee -a "$LOG"
	: >"$OUT/modelcheck.txt"
	i=1
	while [ "$i" -le "$REPS" ]; do
		go test -count=1 ./impl -run TestModelCheck -rapid.checks=2000 -v | grep 'model check:' >>"$OUT/modelcheck.txt"
		i=$((i + 1))
	done
fi

echo "# done; load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$LOG"
go run ./cmd/benchplot -in "$OUT/results" -out "$OUT"
echo "plots and summary in $OUT"
exit "$FAILED"
