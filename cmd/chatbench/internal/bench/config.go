package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"roomchat.dev/roomchat/conformance/dial"
	"strconv"
	"strings"
	"time"

	"roomchat.dev/roomchat/cmd/internal/buildinfo"
	"roomchat.dev/roomchat/spec"
)

// Config is one benchmark run, as set by the command-line flags.
type Config struct {
	// Where the server is: exactly one of Addr, Exec and Addrs is set.
	Addr string // host:port of a running server
	Exec string // shell command starting a server; {port} is replaced by a free port
	PID  int    // the server's process, for CPU and memory figures (set by -exec)
	// A cluster of chatd nodes (cluster.go): Nodes nodes started from
	// Exec, or the running nodes at Addrs (PIDs, if given, are their
	// processes). Load client i connects to node i mod the number of nodes.
	Nodes int
	Addrs []string
	PIDs  []int
	// Transport is how the load's clients reach the server (PROTOCOL.md
	// 2.1); {port} of Exec is its listener. The stalled members, flooders
	// and idle connections use lines over TCP.
	Transport dial.Transport
	// Dialect is what the server speaks: "chat", the protocol, or
	// "plain", a relay that sends every line to every other connection,
	// with no names and no rooms, such as bench/floor (plain.go).
	Dialect string

	// Scenario, if not "", is the row of BENCHMARKS.md's "Close to the floor" whose defaults were
	// applied (scenario.go).
	Scenario string
	// Floor, if not "", is a shell command starting a plain relay ({port}
	// as in Exec): each round runs the same work against it and against
	// the server of Exec, alternating, Reps rounds, and the report gives
	// medians and ratios (compare.go).
	Floor string
	Reps  int

	// The load scenario. Client i joins room #bench<i mod Rooms> as
	// bench<i>; clients 0..Senders-1 are the senders, so the senders are
	// spread round-robin over the rooms like everyone else.
	Clients int
	Rooms   int
	Senders int
	Lines   int     // lines sent by each sender
	Size    int     // payload bytes of each line (at least the header; see payload.go)
	Rate    float64 // lines per second per sender; 0 sends flat out
	// RoomsPerUser, if positive, is the multi-room scenario (multi.go):
	// each client enables rooms (PROTOCOL.md 13.4) and joins that many of
	// the Rooms rooms, and each sender names the room of each line, its
	// rooms in turn.
	RoomsPerUser int

	// The stall scenario (with Rooms == 1): Stalled more members of the
	// load's room, registered as stalled<k>, that never read after their
	// JOIN; stalled0..StalledSenders-1 also send Lines lines at Rate.
	// MaxQueueBytes is the server's limit on a client's pending output, for
	// the estimate of when a stalled member's queue passed it (stall.go).
	Stalled        int
	StalledSenders int
	MaxQueueBytes  int

	// The flood scenario (with Rooms == 1): Flooders more members of the
	// load's room, registered as flooder<f>, that send as fast as the
	// server takes their lines while the senders send (flood.go).
	Flooders int

	// Timeline, if not "", is a file for the healthy members' latency over
	// time (timeline.go).
	Timeline string

	// The idle scenario: Idle connections, each registered as idle<i>, held
	// for Hold and then checked with PING. With IdleRooms R, idle
	// connection i also joins #idle<i mod R> and reads all it is sent
	// (idlerooms.go); with IdleSerial, the connections are set up one after
	// another (the join storm), not setupWorkers at once.
	Idle       int
	IdleRooms  int
	IdleSerial bool
	Hold       time.Duration

	// Profile, if not "", is a directory for pprof profiles of a server
	// started by Exec with {pprof}, which becomes the loopback address of
	// its -pprof listener (profile.go); ProfileSeconds is the length of
	// the CPU and allocation profiles taken from the start of the
	// measured phase. profileLabel prefixes the files' names.
	Profile        string
	ProfileSeconds time.Duration
	profileLabel   string

	// Timeout bounds the whole run, excluding Hold.
	Timeout time.Duration

	JSON     bool // print the report as JSON
	Verbose  bool // copy the started server's output to stderr
	Progress bool // print a progress line on stderr (default: when it is a terminal)
	Version  bool // print the version and exit: nothing else is read or checked
}

// execQueueBytes finds chatd's -max-queue-bytes in an -exec command.
var execQueueBytes = regexp.MustCompile(`(?:^|\s)--?max-queue-bytes[= ]+([0-9]{1,10})(?:\s|$)`)

// maxSize is the largest payload of a client line "MSG <payload>\r\n" under
// FRAME-4.
const maxSize = spec.MaxLineLen - len("MSG ") - len("\r\n")

// parseFlags turns the command line into a Config. It returns flag.ErrHelp
// after printing usage for -h.
func parseFlags(args []string, stderr io.Writer, isTerminal bool) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("chatbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "", "address `host:port` of a running server")
	fs.StringVar(&c.Dialect, "dialect", "chat", "what the server speaks: `chat` (PROTOCOL.md) or plain (a relay of every line to every\n"+
		"other connection, no names, no rooms, such as bench/floor; -rooms 1 only)")
	fs.StringVar(&c.Scenario, "scenario", "", "set the defaults of a `row` of BENCHMARKS.md, \"Close to the floor\": "+scenarioNames()+" (scenario.go);\n"+
		"flags given explicitly override them")
	fs.StringVar(&c.Floor, "floor", "", "also run the same load against the plain relay this shell `command` starts ({port} as in -exec),\n"+
		"e.g. 'bench/floor/floor.sh {port}', alternating with -exec for -reps rounds, and report medians and ratios")
	fs.IntVar(&c.Reps, "reps", 0, "`rounds` of a comparison (-floor, -scenario idle), or of the one run, with medians if more than 1\n"+
		"(0: 3 with -floor or -scenario idle, else 1)")
	fs.StringVar(&c.Profile, "profile", "", "write pprof profiles of the -exec server to `dir`: it must listen for pprof at {pprof} (chatd -pprof {pprof});\n"+
		"CPU and allocations over -profile-seconds from the start of sending (or of the idle connections' setup), heap at the end")
	fs.DurationVar(&c.ProfileSeconds, "profile-seconds", 5*time.Second, "`length` of the CPU and allocation profiles of -profile")
	fs.StringVar(&c.Exec, "exec", "", "start the server with this shell `command`; {port} becomes a free port,\n"+
		"otherwise its output must log addr=HOST:PORT; it is stopped with SIGTERM at the end")
	transport := fs.String("transport", "lines", "the load clients' `transport`: lines, tls (certificate not checked), framed4, framed8 or ws;\n"+
		"{port} of -exec is that transport's listener (-stalled, -flooders and -idle need lines)")
	fs.IntVar(&c.PID, "pid", 0, "`PID` of the server given by -addr, to report its CPU time and memory")
	fs.IntVar(&c.Nodes, "nodes", 0, "start `N` chatd nodes of one cluster from -exec (docs/cluster.md): node 1 with\n"+
		"-cluster-embedded 127.0.0.1:PORT (its NATS server), the others with -cluster nats://127.0.0.1:PORT,\n"+
		"each with -cluster-node nK, in place of {cluster} or at the end; load client i uses node i mod N\n"+
		"(0: one server, not a cluster)")
	addrs := fs.String("addrs", "", "`host:port,...` of the running nodes of a cluster; load client i uses the (i mod N)th")
	pids := fs.String("pids", "", "`PID,...` of the nodes given by -addrs, in the same order, for their CPU time and memory")
	fs.IntVar(&c.Clients, "clients", 50, "`N` chatting clients (but 0 if -idle is given and -clients is not)")
	fs.IntVar(&c.Rooms, "rooms", 1, "`R` rooms #bench0..#bench<R-1>; client i joins #bench<i mod R>")
	fs.IntVar(&c.Senders, "senders", -1, "`S` senders in total: clients 0..S-1, hence spread round-robin over\n"+
		"the rooms like all clients (-1: every client sends)")
	fs.IntVar(&c.Lines, "lines", 200, "`M` lines sent by each sender")
	fs.IntVar(&c.Size, "size", 32, fmt.Sprintf("payload `bytes` per line (at most %d; never shorter than its header)", maxSize))
	fs.IntVar(&c.RoomsPerUser, "rooms-per-user", 0, "`K`: each client enables rooms (PROTOCOL.md 13.4) and joins K of the -rooms rooms,\n"+
		"#bench<(7i+j) mod R> for j < K (a prime other than 7 if 7 divides R), and sends its\n"+
		"lines to them in turn with MSG <room> <text>; 0: one room each, core protocol")
	fs.Float64Var(&c.Rate, "rate", 0, "`L` lines per second per sender, each flushed on its own (0: flat out, batched writes)")
	fs.IntVar(&c.Stalled, "stalled", 0, "add `K` members stalled0..K-1 to the room (needs -rooms 1) that join, then never read;\n"+
		"the report says when the server disconnected each")
	fs.IntVar(&c.StalledSenders, "stalled-senders", 0, "the first `J` of the -stalled members also send -lines lines at -rate")
	fs.IntVar(&c.MaxQueueBytes, "max-queue-bytes", spec.MaxQueueBytes, "the server's limit on a client's pending output, in `bytes`: only used, with\n"+
		"-stalled, to estimate how long after passing it each stalled member was dropped;\n"+
		"by default the -max-queue-bytes of the -exec command, if it has one")
	fs.IntVar(&c.Flooders, "flooders", 0, "add `F` members flooder0..F-1 to the room (needs -rooms 1) that send flat out while\n"+
		"the senders send; the report gives the lines/s the server took from each")
	fs.StringVar(&c.Timeline, "timeline", "", "write the healthy members' latency by send time (p50, p99, max per 10 ms)\n"+
		"and the stalled members' disconnects to `file`, as CSV")
	fs.IntVar(&c.Idle, "idle", 0, "open `N` idle connections that register a name, hold them, then check each answers PING")
	fs.IntVar(&c.IdleRooms, "idle-rooms", 0, "`R`: idle connection i also joins #idle<i mod R> and reads all it is sent; the report gives\n"+
		"the JOIN lines received and the server's CPU time while they joined (0: they stay in the lobby)")
	fs.BoolVar(&c.IdleSerial, "idle-serial", false, "set up the idle connections one after another (a join storm), not 32 at once")
	fs.DurationVar(&c.Hold, "hold", time.Second, "how long to hold the idle connections")
	fs.DurationVar(&c.Timeout, "timeout", time.Minute, "limit on the whole run, not counting -hold")
	fs.BoolVar(&c.JSON, "json", false, "print the report as JSON")
	fs.BoolVar(&c.Verbose, "v", false, "copy the output of the server started by -exec to stderr")
	progress := fs.String("progress", "auto", "progress line on stderr: `auto` (when a terminal), on or off")
	fs.BoolVar(&c.Version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: chatbench (-addr host:port [-pid PID] | -exec 'CMD ... {port}' [-nodes N] |\n"+
			"                  -addrs host:port,... [-pids PID,...]) [flags]\n\n"+
			"Sends numbered, timestamped lines through a roomchat server and checks that each\n"+
			"receiver gets every line of its room exactly once, intact and in per-sender order.\n"+
			"With -stalled K, K more members of the room stop reading after their JOIN, and the\n"+
			"report says when the server dropped each, e.g.:\n\n"+
			"  chatbench -exec 'chatd -addr 127.0.0.1:{port}' -clients 3 -senders 1 -rate 2500 \\\n"+
			"      -lines 25000 -size 480 -stalled 1 -timeline stall.csv\n\n"+
			"With -flooders F, F more members send flat out meanwhile, and the report says how\n"+
			"many lines a second the server took from each, e.g. under a rate limit:\n\n"+
			"  chatbench -exec 'chatd -addr 127.0.0.1:{port} -line-rate 1000' -clients 10 -senders 5 \\\n"+
			"      -rate 500 -lines 5000 -size 480 -flooders 1\n\n"+
			"With -nodes N, N chatd nodes of one cluster share the clients, client i on node i mod N,\n"+
			"and the report gives each node's CPU and the latency of lines from other nodes, e.g.:\n\n"+
			"  chatbench -exec 'chatd -addr 127.0.0.1:{port}' -nodes 3 -clients 50 -senders 50 \\\n"+
			"      -lines 200 -rate 50\n\n"+
			"With -floor, each of -reps rounds runs the same load against a plain relay (bench/floor)\n"+
			"and against -exec, and the report gives medians and their ratios, e.g.:\n\n"+
			"  chatbench -exec 'chatd -addr 127.0.0.1:{port} -max-queue-bytes 16777216' \\\n"+
			"      -floor 'bench/floor/floor.sh {port}' -scenario flat\n\n"+
			"The scenarios of -scenario (BENCHMARKS.md, \"Close to the floor\"):\n")
		fmt.Fprintln(stderr, scenarioUsage())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.Version {
		return c, nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := applyScenario(fs, c.Scenario, set); err != nil {
		return c, err
	}
	var err error
	if c.Addrs, c.PIDs, err = parseNodes(*addrs, *pids); err != nil {
		return c, err
	}
	if c.Transport, err = dial.Parse(*transport); err != nil {
		return c, fmt.Errorf("-transport: %v", err)
	}
	if c.Transport != dial.Lines && (c.Stalled > 0 || c.Flooders > 0 || c.Idle > 0) {
		return c, errors.New("-stalled, -flooders and -idle use lines over TCP: not with -transport")
	}
	if c.Idle > 0 && !set["clients"] {
		c.Clients = 0
	}
	if set["max-queue-bytes"] && c.Stalled == 0 {
		return c, errors.New("-max-queue-bytes is only used with -stalled")
	}
	if m := execQueueBytes.FindStringSubmatch(c.Exec); m != nil && !set["max-queue-bytes"] {
		c.MaxQueueBytes, _ = strconv.Atoi(m[1])
	}
	if c.Senders < 0 || c.Senders > c.Clients {
		c.Senders = c.Clients
	}
	if c.Reps == 0 {
		c.Reps = 1
		if c.Floor != "" || c.Scenario == "idle" {
			c.Reps = 3
		}
	}
	switch *progress {
	case "auto":
		c.Progress = isTerminal
	case "on":
		c.Progress = true
	case "off":
		c.Progress = false
	default:
		return c, fmt.Errorf("-progress: want auto, on or off, not %q", *progress)
	}
	return c, c.validate()
}

// printVersion prints what -version prints: one line naming the program
// and its build.
func printVersion(w io.Writer) { fmt.Fprintln(w, buildinfo.String("chatbench")) }

func (c Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if n := btoi(c.Addr != "") + btoi(c.Exec != "") + btoi(len(c.Addrs) > 0); n != 1 {
		bad("give exactly one of -addr, -exec and -addrs")
	}
	if c.PID != 0 && c.Addr == "" {
		bad("-pid is for -addr; -exec records the PID itself, -addrs takes -pids")
	}
	if len(c.PIDs) > 0 && len(c.PIDs) != len(c.Addrs) {
		bad("-pids needs -addrs and one PID for each address")
	}
	if c.Nodes < 0 || c.Nodes > 0 && c.Exec == "" {
		bad("-nodes needs -exec and cannot be negative")
	}
	if c.clustered() && (c.Stalled > 0 || c.Flooders > 0 || c.Idle > 0) {
		bad("-stalled, -flooders and -idle use one server: not with -nodes or -addrs")
	}
	if c.Clients < 0 || c.Idle < 0 || c.Lines < 0 || c.PID < 0 {
		bad("-clients, -idle, -lines and -pid cannot be negative")
	}
	if c.Clients == 0 && c.Idle == 0 {
		bad("nothing to do: set -clients or -idle")
	}
	if c.Clients > 0 && (c.Rooms < 1 || c.Rooms > c.Clients) {
		bad("-rooms must be between 1 and -clients")
	}
	if c.RoomsPerUser < 0 || c.Clients > 0 && c.RoomsPerUser > c.Rooms {
		bad("-rooms-per-user must be between 0 and -rooms")
	}
	if c.RoomsPerUser > 0 && (c.Stalled > 0 || c.Flooders > 0) {
		bad("-rooms-per-user is a scenario of its own: not with -stalled or -flooders")
	}
	if room := len(roomName(max(c.Rooms-1, 0))) + 1; c.RoomsPerUser > 0 && c.Size > maxSize-room {
		bad("-size must be at most %d with -rooms-per-user: MSG <room> <text> must fit in %d bytes", maxSize-room, spec.MaxLineLen)
	}
	if c.Stalled < 0 || c.StalledSenders < 0 || c.StalledSenders > c.Stalled {
		bad("-stalled cannot be negative, and -stalled-senders must be between 0 and -stalled")
	}
	if c.Stalled > 0 && (c.Clients == 0 || c.Rooms != 1) {
		bad("-stalled needs -clients and -rooms 1: the stalled members join the one room of the load")
	}
	if c.Flooders < 0 {
		bad("-flooders cannot be negative")
	}
	if c.Flooders > 0 && (c.Clients == 0 || c.Rooms != 1 || c.Senders == 0 || c.Lines == 0) {
		bad("-flooders needs -clients, -rooms 1 and some -senders and -lines: the flooders join the one room of the load and flood while its senders send")
	}
	if c.MaxQueueBytes <= 0 {
		bad("-max-queue-bytes must be positive")
	}
	if c.Timeline != "" && c.Clients == 0 {
		bad("-timeline needs -clients: it is the latency of the load")
	}
	if c.Size < 1 || c.Size > maxSize {
		bad("-size must be between 1 and %d", maxSize)
	}
	if c.Rate < 0 {
		bad("-rate cannot be negative")
	}
	if c.Timeout <= 0 || c.Hold < 0 {
		bad("-timeout must be positive and -hold not negative")
	}
	if c.IdleRooms < 0 || c.IdleRooms > max(c.Idle, 0) {
		bad("-idle-rooms must be between 0 and -idle")
	}
	if c.IdleSerial && c.Idle == 0 {
		bad("-idle-serial needs -idle")
	}
	switch c.Dialect {
	case "chat":
	case "plain":
		if c.Rooms != 1 || c.RoomsPerUser > 0 || c.Stalled > 0 || c.Flooders > 0 || c.IdleRooms > 0 {
			bad("-dialect plain has no rooms: not with -rooms, -rooms-per-user, -stalled, -flooders or -idle-rooms")
		}
		if c.clustered() || c.Transport != dial.Lines {
			bad("-dialect plain is one server over lines: not with -nodes, -addrs or -transport")
		}
		if c.Clients == 1 {
			bad("-dialect plain needs at least 2 -clients: a line goes to every other connection")
		}
		if c.Floor != "" {
			bad("-floor runs -dialect plain itself: give the server of -exec in its own dialect")
		}
	default:
		bad("-dialect must be chat or plain, not %q", c.Dialect)
	}
	if c.Floor != "" {
		if c.Exec == "" || c.Nodes > 0 {
			bad("-floor needs -exec (one server): each round runs both")
		}
		if c.Rooms != 1 && c.Clients > 0 || c.RoomsPerUser > 0 || c.Stalled > 0 || c.Flooders > 0 || c.Transport != dial.Lines {
			bad("-floor: the floor relays lines to everyone: not with -rooms, -rooms-per-user, -stalled, -flooders or -transport")
		}
		if c.IdleSerial {
			bad("-floor: a plain relay has no joins: the join storm (-idle-serial) has no floor")
		}
	}
	if c.Reps < 1 {
		bad("-reps must be at least 1")
	}
	if c.Timeline != "" && c.compare() {
		bad("-timeline is of one run: not with -floor, -reps or -scenario idle")
	}
	if c.Profile != "" && (c.Exec == "" || c.Nodes > 0 || !strings.Contains(c.Exec, "{pprof}")) {
		bad("-profile needs -exec (one server) with {pprof} where it takes the address of its pprof listener, e.g. chatd -pprof {pprof}")
	}
	if c.ProfileSeconds <= 0 {
		bad("-profile-seconds must be positive")
	}
	return errors.Join(errs...)
}

// roomOf returns the room index of client i.
func (c Config) roomOf(i int) int { return i % c.Rooms }

// roomName returns the name of room r.
func roomName(r int) string { return fmt.Sprintf("#bench%d", r) }

// clientName returns the username of load client i.
func clientName(i int) string { return fmt.Sprintf("bench%d", i) }

// stalledName returns the username of stalled member k.
func stalledName(k int) string { return fmt.Sprintf("stalled%d", k) }

// stalledID returns the sender id in the payloads of stalled member k:
// after every load client's, so that no two senders share one.
func (c Config) stalledID(k int) int { return c.Clients + k }

// flooderName returns the username of flooder f.
func flooderName(f int) string { return fmt.Sprintf("flooder%d", f) }

// flooderID returns the sender id in the payloads of flooder f: after
// every load client's and stalled member's.
func (c Config) flooderID(f int) int { return c.Clients + c.Stalled + f }

// idleName returns the username of idle connection i.
func idleName(i int) string { return fmt.Sprintf("idle%d", i) }

// members returns how many clients are in room r.
func (c Config) members(r int) int {
	if c.multi() { // a client's rooms depend on its number mod Rooms alone
		n := 0
		for q := range c.Rooms {
			if c.inRoom(q, r) {
				n += countMod(c.Clients, c.Rooms, q)
			}
		}
		return n
	}
	return countMod(c.Clients, c.Rooms, r)
}

// sendersIn returns how many senders are in room r.
func (c Config) sendersIn(r int) int { return countMod(c.Senders, c.Rooms, r) }

// countMod returns how many i in [0, n) have i mod m == r.
func countMod(n, m, r int) int {
	if r >= n {
		return 0
	}
	return (n-1-r)/m + 1
}

// expected returns the number of deliveries a lossless run makes: every
// member of a room receives every line of every sender in it, its own
// included (D-2).
func (c Config) expected() int64 {
	if c.multi() {
		return c.multiExpected()
	}
	var n int64
	for r := 0; r < c.Rooms && c.Clients > 0; r++ {
		n += int64(c.members(r)) * int64(c.sendersIn(r)) * int64(c.Lines)
	}
	return n
}
