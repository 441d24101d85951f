#!/bin/sh
# bench/run.sh runs every measurement of BENCHMARKS.md and draws its plots:
#
#	bench/run.sh                      # everything, 3 runs per point (~40 min)
#	REPS=1 bench/run.sh               # one run per point
#	BASELINE=a4e6e21 bench/run.sh     # also measure the server of that revision
#	NOW=HEAD bench/run.sh             # measure the server of a revision, not the working tree's
#	ONLY='target idle' bench/run.sh   # only the groups named (see below)
#
# Groups: target roomsize rooms rate coalesce idle stall flood floor scaling baseline
# gobench modelcheck. Each chatbench run starts its own chatd (-exec) on a
# free loopback port, checks every delivery and writes its JSON report to
# $OUT/results/SERIES/X/REP.json; cmd/benchplot then turns them into
# $OUT/*.svg and $OUT/summary.md. The stall group also writes the latency
# timelines $OUT/stall.csv and $OUT/stall-unbounded.csv and draws them as
# $OUT/stall.svg and $OUT/stall-unbounded.svg. The baseline group's series
# are named base-REV-*, REV being BASELINE's short hash. The Go benchmarks
# go to $OUT/gobench.txt, the model check's throughput to
# $OUT/modelcheck.txt, the commands run and the load average before each
# point (appended) to $OUT/run.log. Every run is bounded (chatbench
# -timeout 2m). OUT defaults to docs/bench; BASELINE and NOW need a git
# checkout, and are built from `git archive` (the working tree is not
# touched).
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-docs/bench}
REPS=${REPS:-3}
ONLY=${ONLY:-target roomsize rooms rate coalesce idle stall flood floor scaling baseline gobench modelcheck}
BASELINE=${BASELINE:-}
NOW=${NOW:-}

BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT

# buildrev REV OUTPUT: builds the chatd of revision REV, from git archive.
buildrev() {
	src=$(mktemp -d)
	git archive "$1" | tar -x -C "$src"
	(cd "$src" && go build -o "$2" ./cmd/chatd)
	rm -rf "$src"
}

now=working-tree
if [ -n "$NOW" ]; then
	now=$(git rev-parse --short "$NOW")
	buildrev "$now" "$BIN/chatd"
else
	go build -o "$BIN/chatd" ./cmd/chatd
fi
go build -o "$BIN/chatbench" ./cmd/chatbench
mkdir -p "$OUT/results"
LOG=$OUT/run.log
echo "# $(date -u +%Y-%m-%dT%H:%MZ) ONLY='$ONLY' REPS=$REPS BASELINE=$BASELINE; chatd of $now (HEAD $(git rev-parse --short HEAD 2>/dev/null || echo '?')); $(nproc) CPUs, $(go version); load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$LOG"
FAILED=0

want() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# bench SERIES X REPS 'CHATD FLAGS' CHATBENCH ARGS...: REPS runs of one point.
# CHATD=path runs another server, EXEC=command another server with another
# command line ({port} as in -exec; FLAGS are not used); TIMELINE=file gives the first run
# -timeline file; XFAIL=why marks a point whose runs may fail (a healthy
# member dropped, say): a failure is logged with why, and is not an error.
# REP=i makes only run i of the REPS (run 1 clears the point's results), so
# that the runs of two points can alternate. (Shell functions share the
# script's variables: bench sets series, x, reps, flags, server, timeline,
# xfail, rep, dir, i, what and tl.)
bench() {
	series=$1 x=$2 reps=$3 flags=$4
	shift 4
	# Taken, then cleared, in case a shell keeps such assignments after the call.
	server=${CHATD:-$BIN/chatd} timeline=${TIMELINE:-} xfail=${XFAIL:-} rep=${REP:-}
	exec_=${EXEC:-"$server -addr 127.0.0.1:{port}$flags"}
	CHATD= TIMELINE= XFAIL= REP= EXEC=
	dir=$OUT/results/$series/$x
	i=1
	if [ -n "$rep" ]; then
		i=$rep reps=$rep
	fi
	if [ "$i" -eq 1 ]; then
		rm -rf "$dir"
	fi
	mkdir -p "$dir"
	what="$reps runs"
	[ -n "$rep" ] && what="run $rep"
	echo "chatbench -exec '$exec_' $*   # $series x=$x, $what; load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG"
	while [ "$i" -le "$reps" ]; do
		tl=
		if [ "$i" -eq 1 ] && [ -n "$timeline" ]; then tl="-timeline $timeline"; fi
		# $tl is split on purpose: "-timeline FILE" or nothing.
		# shellcheck disable=SC2086
		if ! "$BIN/chatbench" -json -progress off -timeout 2m $tl \
			-exec "$exec_" "$@" >"$dir/$i.json" 2>>"$LOG"; then
			if [ -n "$xfail" ]; then
				echo "  run $i failed, as it may: $xfail (see $dir/$i.json)" | tee -a "$LOG"
			else
				echo "  run $i FAILED (see $dir/$i.json)" | tee -a "$LOG"
				FAILED=1
			fi
		fi
		i=$((i + 1))
	done
}

# The chatd of BASELINE, for the baseline group.
rev=
if want baseline && [ -n "$BASELINE" ]; then
	rev=$(git rev-parse --short "$BASELINE")
	buildrev "$rev" "$BIN/chatd-base"
	echo "# baseline: chatd of $rev" | tee -a "$LOG"
fi

# The targets of the performance issue, 5 runs each. With the baseline
# group, the baseline's runs of the targets alternate with these, so that
# both see the same machine.
TARGET_FLAT='-clients 50 -rooms 1 -senders 50 -lines 200 -size 32'
TARGET_PACED="$TARGET_FLAT -rate 50"
# $TARGET_FLAT and $TARGET_PACED are split on purpose.
# shellcheck disable=SC2086
if want target; then
	for t in flat paced; do
		args=$TARGET_FLAT
		[ "$t" = paced ] && args=$TARGET_PACED
		for r in 1 2 3 4 5; do
			REP=$r bench "target-$t" 1 5 '' $args
			if [ -n "$rev" ]; then
				REP=$r CHATD=$BIN/chatd-base bench "base-$rev-target-$t" 1 5 '' $args
			fi
		done
	done
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
# with write coalescing of 1 ms and without. X is lines/s in all.
if want rate; then
	for l in 10 20 50 100 200 500; do
		bench rate "$((50 * l))" "$REPS" ' -coalesce 1ms' -clients 50 -senders 50 -lines "$((4 * l))" -rate "$l"
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

# drawtl NAME TITLE draws $OUT/NAME.csv, a chatbench -timeline, as $OUT/NAME.svg.
drawtl() {
	if [ -s "$OUT/$1.csv" ]; then
		go run ./cmd/benchplot -timeline "$OUT/$1.csv" -out "$OUT" -target-ms 250 -title "$2"
	else
		echo "  no timeline $OUT/$1.csv" | tee -a "$LOG"
	fi
}

# A member that stops reading (PROTOCOL.md LIMIT-4, LIMIT-9): 10 members,
# 5 of them sending 500 lines/s each (2,500 lines/s of 480 bytes in all)
# for 20 s, and K more that never read after their JOIN, floor(K/2) of them
# sending too. X is K. With the default 1 MiB queue and with 64 KiB; and
# under the first edition's rule, which let a stalled member hold its room
# back until its write timeout (-stall-budget 1h); and with no pacing at all
# (-stall-budget 0), to see what the 100 ms budget costs. The first run with one
# never-reader of each rule writes a latency timeline, drawn as
# $OUT/stall.svg and $OUT/stall-unbounded.svg.
STALL='-clients 10 -senders 5 -rate 500 -size 480 -lines 10000'
if want stall; then
	for k in 0 1 5; do
		tl=
		[ "$k" -eq 1 ] && tl=$OUT/stall.csv
		# $STALL is split on purpose.
		# shellcheck disable=SC2086
		TIMELINE=$tl bench stall "$k" "$REPS" '' $STALL -stalled "$k" -stalled-senders "$((k / 2))"
		# shellcheck disable=SC2086
		bench stall-64k "$k" "$REPS" ' -max-queue-bytes 65536' $STALL -stalled "$k" -stalled-senders "$((k / 2))"
	done
	for k in 1 5; do
		tl=
		[ "$k" -eq 1 ] && tl=$OUT/stall-unbounded.csv
		# shellcheck disable=SC2086
		TIMELINE=$tl bench stall-unbounded "$k" "$REPS" ' -stall-budget 1h' $STALL -stalled "$k" -stalled-senders "$((k / 2))"
		# shellcheck disable=SC2086
		bench stall-nopace "$k" "$REPS" ' -stall-budget 0' $STALL -stalled "$k" -stalled-senders "$((k / 2))"
	done
	drawtl stall 'one member stops reading: healthy members at 2,500 lines/s (chatd default)'
	drawtl stall-unbounded 'the same under the first rule (chatd -stall-budget 1h)'
fi

# A member that sends as fast as the server takes its lines, in the same
# room and load as the stall group's, with chatd -line-rate L (LIMIT-11)
# and without (X = L, 0 for none); and, for comparison, no flooder. Without
# a limit a healthy member may fall 1 MiB behind and be dropped: such a run
# fails, as it may.
if want flood; then
	for l in 0 1000; do
		flag= xf='a flooder without -line-rate'
		[ "$l" -gt 0 ] && flag=" -line-rate $l" xf=
		# shellcheck disable=SC2086
		XFAIL=$xf bench flood "$l" "$REPS" "$flag" $STALL -flooders 1
		# shellcheck disable=SC2086
		bench flood-none "$l" "$REPS" "$flag" $STALL
	done
fi

# The server of another revision, on the targets (alternating with the
# target group's runs, if it runs too) and on idle connections.
# shellcheck disable=SC2086
if [ -n "$rev" ]; then
	if ! want target; then
		CHATD=$BIN/chatd-base bench "base-$rev-target-flat" 1 5 '' $TARGET_FLAT
		CHATD=$BIN/chatd-base bench "base-$rev-target-paced" 1 5 '' $TARGET_PACED
	fi
	for n in 1000 10000 19000; do
		CHATD=$BIN/chatd-base bench "base-$rev-idle" "$n" "$REPS" ' -max-clients 19500' -idle "$n" -hold 5s
	done
fi

# Close to the floor: each row of BENCHMARKS.md's table against the C relay
# of bench/floor (built by floor.sh with the system compiler), both in the
# same run, 3 alternating rounds each (chatbench -floor -reps), medians and
# ratios in the JSON report. The idle rows compare members of rooms with
# connections in the lobby; the join storm has no floor to compare with.
if want floor; then
	FLOOR="$PWD/bench/floor/floor.sh {port}"
	big=' -max-queue-bytes 16777216'
	bench floor-flat 1 1 "$big" -scenario flat -floor "$FLOOR" -reps "$REPS" -timeout 10m
	bench floor-many 1 1 "$big" -scenario many -floor "$FLOOR" -reps "$REPS" -timeout 10m
	bench floor-paced 1 1 '' -scenario paced -floor "$FLOOR" -reps "$REPS" -timeout 10m
	bench floor-sparse 1 1 '' -scenario sparse -floor "$FLOOR" -reps "$REPS" -timeout 10m
	bench floor-idle 3000 1 ' -extensions none' -scenario idle -floor "$FLOOR" -reps "$REPS" -timeout 10m
	bench floor-idle-rooms 10000 1 ' -extensions none -max-clients 19500' -scenario idle -idle 10000 -idle-rooms 100 -floor "$FLOOR" -reps "$REPS" -timeout 10m
	bench floor-joinstorm 2000 "$REPS" '' -scenario joinstorm -timeout 10m
	bench floor-joinstorm 4000 1 '' -scenario joinstorm -idle 4000 -timeout 20m
fi

# Scaling: server CPU per delivery against the size of one room (10 to
# 10,000 members, 10 senders) and against the number of connections (100
# to 19,000 in rooms of 10, every client sending), flat out, about 2 M
# deliveries a point, queues that hold the bursts; and the floor's against
# the size of its one "room", every connection. The runs of chatd and of
# the floor alternate. Joining 10,000 members to one room costs 50 M JOIN
# lines, so that size runs once.
if want scaling; then
	FLOOR="$PWD/bench/floor/floor.sh {port}"
	big=' -max-queue-bytes 16777216 -max-clients 20000'
	for m in 10 100 1000 10000; do
		# (bench sets reps and lines of its own: these names are not theirs.)
		nrep=$REPS
		[ "$m" -eq 10000 ] && nrep=1
		each=$((200000 / m))
		k=1
		while [ "$k" -le "$nrep" ]; do
			REP=$k bench scale-room "$m" "$nrep" "$big" -clients "$m" -senders 10 -lines "$each" -timeout 10m
			REP=$k EXEC=$FLOOR bench scale-room-floor "$m" "$nrep" '' -dialect plain -clients "$m" -senders 10 -lines "$each" -timeout 10m
			k=$((k + 1))
		done
	done
	for n in 100 1000 10000 19000; do
		bench scale-conns "$n" "$REPS" "$big" -clients "$n" -rooms "$((n / 10))" -senders -1 -lines "$((200000 / n))" -timeout 10m
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
