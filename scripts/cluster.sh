#!/usr/bin/env bash
# Runs a local cluster of three chatd nodes (docs/cluster.md) until Ctrl-C:
# node 1 runs the NATS server (JetStream) inside it, nodes 2 and 3 join it.
# Clients connect to any node: 127.0.0.1:9001, :9002 and :9003.
#
#   bash scripts/cluster.sh            # builds chatd into a temporary directory
#   NODES=5 BASE=9100 bash scripts/cluster.sh
#
# Logs go to the terminal, one prefix per node.
set -euo pipefail
nodes=${NODES:-3}
base=${BASE:-9001}
nats=${NATS:-127.0.0.1:4222}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$dir"' EXIT INT TERM
cd "$(dirname "$0")/.."
go build -o "$dir/chatd" ./cmd/chatd

run() { # node number, then chatd's flags
	local n=$1
	shift
	"$dir/chatd" -addr "127.0.0.1:$((base + n - 1))" -cluster-node "node$n" "$@" 2>&1 | sed -u "s/^/node$n: /" &
}

run 1 -cluster-embedded "$nats" -cluster-store "$dir/nats"
# The others join once node 1's NATS server listens.
for _ in $(seq 100); do
	if (exec 3<>"/dev/tcp/${nats%:*}/${nats#*:}") 2>/dev/null; then
		break
	fi
	sleep 0.1
done
for n in $(seq 2 "$nodes"); do
	run "$n" -cluster "nats://$nats"
done
echo "cluster of $nodes nodes: 127.0.0.1:$base to 127.0.0.1:$((base + nodes - 1)); Ctrl-C stops it" >&2
wait
