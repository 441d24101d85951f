#!/bin/sh
# bench/floor/floor.sh builds bench/floor/floor from floor.c with the
# system's C compiler when it is missing or older than its source, then,
# given arguments, runs it in place of this shell (so that its PID is the
# floor's own, for chatbench's CPU figures):
#
#	bench/floor/floor.sh                   # build only
#	bench/floor/floor.sh 9998              # build if needed, listen on 127.0.0.1:9998
#	bench/floor/floor.sh -addr 127.0.0.1:9998
#	chatbench -exec 'chatd -addr 127.0.0.1:{port}' -floor 'bench/floor/floor.sh {port}' -scenario flat
#
# CC (default cc) and CFLAGS (default -O2 -Wall) choose the compiler.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
bin=$dir/floor
if [ ! -x "$bin" ] || [ "$dir/floor.c" -nt "$bin" ]; then
	cc=${CC:-cc}
	command -v "$cc" >/dev/null 2>&1 || {
		echo "floor.sh: no C compiler ($cc); install one, e.g. apt-get install -y gcc" >&2
		exit 1
	}
	# Built under another name, then renamed: two runs at once never
	# execute a half-written binary.
	"$cc" ${CFLAGS:--O2 -Wall} -o "$bin.$$" "$dir/floor.c"
	mv -f "$bin.$$" "$bin"
fi
[ $# -eq 0 ] || exec "$bin" "$@"
