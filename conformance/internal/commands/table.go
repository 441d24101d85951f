package commands

import (
	"errors"

	"github.com/rogpeppe/go-internal/testscript"
)

// A command is one script command, a row of the table: everything the
// dispatcher, the usage messages and the reference (Reference) know of it.
type command struct {
	name string
	// args is the synopsis of the arguments. The dispatcher parses the
	// options and counts the arguments by it (syntax.go), and a call that
	// does not fit fails with "usage: NAME ARGS".
	args    string
	summary string   // what the command does, for the reference
	neg     *negForm // the ! form; nil if the command refuses !
	run     func(*call)

	syntax, negSyntax *syntax // parsed from args and neg.args
}

// A negForm is the ! form of a command.
type negForm struct {
	args    string // its synopsis, if it differs from the command's
	summary string
}

// A section is a group of commands in the reference.
type section struct {
	title string // the paragraph that opens it
	cmds  []*command
}

// table is every command, in the order and the groups of the reference.
var table = []section{
	{title: "Connections:", cmds: []*command{
		{name: "connect", args: "[-rcvbuf BYTES] [-node N] NAME...", run: cmdConnect,
			summary: `open one TCP connection per name to $ADDR; a name may be reused
				once its connection is over. -node: to node N of the cluster started
				for the script instead (1 is $ADDR's). -rcvbuf sets each socket's receive
				buffer to BYTES before it connects (SO_RCVBUF, which the kernel may
				round up), so that once NAME stops reading the server's output to it
				is pending after a few kilobytes, however large the kernel would
				have let the buffer grow (for WriteTimeout: LIMIT-4)`,
			neg: &negForm{args: "NAME", summary: `the server must refuse the connection`}},
		{name: "connectmany", args: "N PREFIX", run: cmdConnectMany,
			summary: `connect PREFIX1 ... PREFIXN`},
		{name: "disconnect", args: "NAME...", run: cmdDisconnect,
			summary: `close abruptly (FIN), without QUIT`},
		{name: "reset", args: "NAME...", run: cmdReset,
			summary: `close with SO_LINGER 0, so the server gets a RST`},
		{name: "halfclose", args: "NAME...", run: cmdHalfClose,
			summary: `shut down the writing side; NAME can still read`},
		{name: "stopread", args: "NAME...", run: cmdStopRead,
			summary: `stop reading from the socket (a slow consumer)`},
		{name: "resumeread", args: "NAME...", run: cmdResumeRead,
			summary: `read again`},
		{name: "readrate", args: "NAME BYTES", run: cmdReadRate,
			summary: `read at most BYTES bytes a second on average (a slow reader,
				which still reads); 0 for no limit`},
		{name: "churn", args: "[-name] [-join ROOM] [-send QUOTED] [-quit | -reset | -refused] N PREFIX", run: cmdChurn,
			summary: `N connections PREFIX1 ... PREFIXN, one after the other, each of
				its own (not a script client, not in the transcript): connect; with
				-name, USERNAME PREFIXi, answered OK Welcome; with -join, JOIN ROOM,
				answered OK Joined (what follows is not checked); with -send, the
				bytes of QUOTED, as sendraw decodes them (a partial line, say); then
				close (FIN), or -quit: QUIT, answered OK Goodbye! after any lines of
				the grammar, then the close; -reset: close with SO_LINGER 0 (RST);
				-refused: the server answers ERROR Server full and closes, and no
				other option is allowed. %d in ROOM and QUOTED is i. Each wait is
				bounded by $TIMEOUT and the whole command by 20 times $TIMEOUT`},
	}},
	{title: "Sending (LINE is sent as is; the command adds the terminator):", cmds: []*command{
		{name: "send", args: "NAME LINE", run: cmdSend,
			summary: `LINE and CRLF, in one write`},
		{name: "sendlf", args: "NAME LINE", run: cmdSendLF,
			summary: `LINE and a bare LF`},
		{name: "sendraw", args: "NAME QUOTED", run: cmdSendRaw,
			summary: `the bytes of the body of a Go string literal: \r \n \t \xHH
				\uHHHH \\ \" are escapes, and, as in PROTOCOL.md's transcripts, \x{N}
				is N bytes of x. No terminator is added.`},
		{name: "sendsplit", args: "NAME LINE", run: cmdSendSplit,
			summary: `LINE and CRLF, one byte per write`},
		{name: "sendlong", args: "[-prefix TEXT] [-lf | -noterm] NAME N", run: cmdSendLong,
			summary: `TEXT, N bytes of x, then CRLF (or LF, or nothing)`},
		{name: "sendmany", args: "NAME LINE...", run: cmdSendMany,
			summary: `every LINE with CRLF, all in one write`},
		{name: "sendframe", args: "[-length N | -binary] NAME QUOTED", run: cmdSendFrame,
			summary: `over framed4, framed8 or ws only: one frame, or one WebSocket
				message, whose payload is the bytes of QUOTED (decoded as by sendraw),
				as they are, so that the payload can hold a CR or an LF (TRANS-3,
				TRANS-5). A frame's header announces its length, or N with -length (a
				frame cut short, or one longer than what follows); a message is text,
				or binary with -binary`},
		{name: "floodsend", args: "[-bg] [-rate N] NAME COUNT TEMPLATE...", run: cmdFloodSend,
			summary: `COUNT rounds of lines, one per TEMPLATE with %d replaced by the
				round 1..COUNT, written as fast as the server takes them, in chunks
				of 16 KiB. With -rate, N rounds a second (N > 0, fractional allowed):
				round i, in one write, goes out no earlier than start + (i-1)/N;
				rounds that fall due while the server is slow to read go out at once
				when it reads again, none skipped. NAME records when each round was
				sent, for recvmany -from: with -rate, when it was due (so that a
				server that stops reading NAME is charged for the delay); without,
				just before the write of the chunk holding its first byte. A
				floodsend replaces the record of the one before. With -bg the flood
				is written by a goroutine of its own while the script goes on (later
				writes of NAME wait for it)`},
		{name: "floodwait", args: "NAME", run: cmdFloodWait,
			summary: `wait until the background flood of NAME is written; fail if it
				could not be`},
		{name: "sendeach", args: "[-raw] NAMES TEMPLATE", run: cmdSendEach,
			summary: `to each client of NAMES in turn, TEMPLATE with %d = its position
				1, 2, ... in NAMES, and CRLF, one write each; with -raw, TEMPLATE is
				decoded as by sendraw and nothing is added (a partial line, one byte
				of a line dribbled out)`},
	}},
	{title: `Receiving. Each command consumes lines in order and waits up to $TIMEOUT
		for each; every line must end in CRLF (FRAME-2), and a line that a pattern
		accepts must be in the server grammar (GRAM-6):`, cmds: []*command{
		{name: "recv", args: "NAME LINE", run: cmdRecv,
			summary: `the next line is exactly LINE`,
			neg: &negForm{summary: `the next line, if one comes within $TIMEOUT, is
				consumed and must differ from LINE; no line at all passes too (prefer
				quiet to prove silence)`}},
		{name: "expect", args: "NAME REGEXP", run: cmdExpect,
			summary: `the next line matches REGEXP (anchor it: ^...$)`,
			neg: &negForm{summary: `the next line, if one comes within $TIMEOUT, is
				consumed and must not match REGEXP; no line at all passes too (prefer
				quiet to prove silence)`}},
		{name: "recvmany", args: "[-also LINE]... [-skip REGEXP] [-from NAME [-within DURATION] [-spread DURATION]] NAME COUNT TEMPLATE...", run: cmdRecvMany,
			summary: `the next lines are COUNT rounds of one line per TEMPLATE, with %d
				= the round 1..COUNT, in order, with each -also LINE once somewhere
				among or after them. Options come in any order before NAME. -skip: a
				line matching REGEXP that is neither the next line expected nor a
				pending -also line is skipped (it must be in the grammar). -from: the
				lines come from the latest floodsend of that client, which must have
				COUNT rounds of as many TEMPLATEs; each line is timed from when its
				round was sent (floodsend) to when it arrived (not when the script got
				to it). -within: each line arrives within DURATION of its round (a
				server that holds back its room fails); the maximum and 99th
				percentile are logged. -spread: the last line arrives at least
				DURATION after round 1 was sent (a server that paces the sender's
				reading, such as a rate limit, must not deliver the lines sooner)`},
		{name: "recveach", args: "NAMES TEMPLATE", run: cmdRecvEach,
			summary: `the next line of each client of NAMES is TEMPLATE with %d = its
				position 1, 2, ... in NAMES`},
		{name: "recvmerge", args: "NAME[,NAME]... [-any] COUNT TEMPLATE [[-any] COUNT TEMPLATE]...", run: cmdRecvMerge,
			summary: `each NAME receives every stream (TEMPLATE with %d = 1..COUNT),
				each stream in order, interleaved in one way that must be the same
				for every NAME (ORDER-2); the lines of a -any stream may come in any
				order among themselves, each once (such as the LEAVE notes of many
				disconnects: DISC-3)`},
		{name: "recvrooms", args: "NAME [ROOM...]", run: cmdRecvRooms,
			summary: `the next line is a ROOMLIST sorted by folded name (ROOMS-1) whose
				rooms are exactly ROOM..., given in any order; on a shared server,
				only rooms ending in $U count`},
		{name: "recvmsg", args: "[-stored] [-count N] [-id ID] [-new] [-set VAR] NAME ROOM USER TEXT", run: cmdRecvMsg,
			summary: `the next line is MESSAGE <id> <time> ROOM USER TEXT, with -stored
				HISTORY <id> <time> ROOM USER TEXT (a line of a HISTORY reply), with
				any valid ID and time (PROTOCOL.md 13.3); with -count, the next N such
				lines, %d in TEXT = 1..N. Every line it matches is recorded for the
				whole script run, restarts included, and checked against the record
				(HIST-1): one ID always shows the same time, room, user and text; a
				larger ID never has an earlier time; on each connection the IDs of
				the MESSAGE lines since its latest OK Joined increase, and so do those
				of the HISTORY lines of one reply. -id: the ID is ID (the message
				another client was shown: HIST-2). -new: the ID is above every ID
				recorded so far (for a message sent after the script saw all of
				those). -set: $VAR is set to the ID (with -count, that of the first
				line), for the lines that follow: 'HISTORY #log$U $first 10'`},
		{name: "unseen", args: "TEXT...", run: cmdUnseen,
			summary: `no line that any client of the script has received so far, on any
				of its connections, holds TEXT: for what a server must never send,
				such as a password (ACCT-6). Use it after quiet, once every line has
				arrived`},
		{name: "quiet", args: "NAME...", run: cmdQuiet,
			summary: `nothing more has arrived: each NAME sends PING quiet-N and the
				very next line must be PONG quiet-N (PING-2); without the ping
				extension, no line may arrive for 300 ms`},
		{name: "closed", args: "[-skip REGEXP] [-partial] [-reset] NAME...", run: cmdClosed,
			summary: `the server closes the connection (EOF or reset) before any other
				line; lines matching REGEXP are skipped; -partial allows a last line
				cut short (a connection cut off for a write timeout or a reset); with
				-reset the connection must end with a reset, not a clean end of
				stream: the abortive close of a slow consumer (LIMIT-8). Lines that
				reached NAME before the reset may be read first`},
		{name: "await", args: "[-fresh [-node N]] NAME LINE REPLY", run: cmdAwait,
			summary: `send LINE until it is answered REPLY, for at most $TIMEOUT: for
				states that settle at a time no client can observe, such as a name
				freed by a disconnect (DISC-3). LINE must be answered with one line.
				-fresh: each try is a new connection called NAME (to node N of a
				cluster with -node), which waits half a second at most for its
				answer; the one answered REPLY stays open. For a state in which a
				line may go unanswered for a while, such as a cluster's log going
				down (CLUSTER-7)`},
	}},
	{title: "The server and time:", cmds: []*command{
		{name: "shutdown", run: cmdShutdown,
			summary: `SIGTERM to the server started for this script (needs a "# server:"
				header)`},
		{name: "restart", args: "[-kill]", run: cmdRestart,
			summary: `restart the server started for this script: SIGTERM, and wait
				until it exits, or SIGKILL with -kill (a crash); then start it again
				with the same command line, flags and {dir}, and wait until it
				accepts connections. $ADDR follows it if its port changes. The
				connections to the server that stopped are over (check them with
				closed). The runner sees restart in a script: the script needs a
				"# server:" header and runs only on a server the suite starts
				(-exec), and is skipped on -addr`},
		{name: "killnode", args: "N", run: cmdKillNode,
			summary: `SIGKILL to node N of the cluster started for this script (a
				script of the cluster tag): it ends at once, and its connections
				with it; wait until it has ended`},
		{name: "stopnode", args: "N", run: cmdStopNode,
			summary: `SIGTERM to node N of the cluster, and wait until it exits (SHUT-1
				for its own clients)`},
		{name: "stoplog", run: cmdStopLog,
			summary: `stop the service the cluster's nodes share (-cluster-log): the
				cluster's log is unreachable until startlog. A script that uses it
				is skipped on a cluster without -cluster-log`},
		{name: "startlog", run: cmdStartLog,
			summary: `start the log service again where the nodes expect it, and wait
				until it accepts connections`},
		{name: "sleep", args: "DURATION", run: cmdSleep,
			summary: `wait, for the timeouts of sections 8 and 9 (LIMIT-7, SHUT-2);
				never to synchronise (use quiet)`},
		{name: "mark", args: "MARK", run: cmdMark,
			summary: `start the stopwatch MARK now, for arrived (stopwatches have names
				of their own: MARK may be a client's name too)`},
		{name: "arrived", args: "[-after DURATION] [-before DURATION] MARK NAME", run: cmdArrived,
			summary: `what the script consumed last from NAME (the line of the latest
				recv, expect, ..., or the end of the stream that closed saw) arrived
				at least -after and less than -before after mark MARK, by the time
				the client received it, not when the script got to it: a lower and
				an upper bound on a timeout (LIMIT-4, LIMIT-7, LIMIT-11). Without
				-after, a line that arrived before the mark passes too. Give
				bounds seconds wide of the value the protocol implies, so that a
				loaded machine passes and a timeout off by a whole period fails`},
	}},
	{title: `Verdicts. A failure counts against a MUST of PROTOCOL.md unless it happens
		between should and must:`, cmds: []*command{
		{name: "should", args: "RULE", run: cmdShould,
			summary: `the assertions from here on check RULE, a SHOULD of PROTOCOL.md
				(a recommendation): if one fails, the script's verdict is NON-STRICT,
				not FAIL, unless chatconform runs with -strict. The script's
				"# rules:" header names RULE`},
		{name: "serializable", args: "", run: cmdSerializable,
			summary: `check what every client sent and received so far against the
				model, whatever order the server took the lines in: after two PING
				rounds that make the record complete, one order of all the lines
				sent must exist that keeps each client's order and real time
				(ORDER-4) and produces exactly the lines each client received
				(ORDER-1, ORDER-2). Every line received up to the second PONG is
				consumed. The model starts with no users and no rooms: every client
				of the script counts, and none may send ROOMS, which would list the
				rooms of other scripts sharing the server. A script that sends from
				several clients at once, without waiting, ends with it: that is how
				a race found by chatconform -concurrent is replayed`},
		{name: "must", args: "", run: cmdMust,
			summary: `the assertions from here on check MUSTs again (the default)`},
	}},
}

// byName is the table by name, with the synopses parsed.
var byName = func() map[string]*command {
	m := map[string]*command{}
	for _, sec := range table {
		for _, cmd := range sec.cmds {
			if m[cmd.name] != nil {
				panic("command " + cmd.name + " twice in the table")
			}
			var err error
			if cmd.syntax, err = parseSyntax(cmd.args); err != nil {
				panic(cmd.name + ": " + err.Error())
			}
			cmd.negSyntax = cmd.syntax
			if cmd.neg != nil && cmd.neg.args != "" {
				if cmd.negSyntax, err = parseSyntax(cmd.neg.args); err != nil {
					panic(cmd.name + ": " + err.Error())
				}
			}
			m[cmd.name] = cmd
		}
	}
	return m
}()

// Cmds returns the commands of the table as testscript.Params.Cmds wants
// them. They need the session that Setup installs.
func Cmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	m := make(map[string]func(*testscript.TestScript, bool, []string), len(byName))
	for name, cmd := range byName {
		m[name] = cmd.dispatch
	}
	return m
}

// A call is one use of a command in a script.
type call struct {
	ts   *testscript.TestScript
	s    *session
	cmd  *command
	neg  bool     // the ! form
	args []string // the arguments after the options, not expanded
	opts options  // the options given, their values expanded
}

// dispatch runs one call of cmd after the checks that the table implies:
// the ! form is allowed, and the options and the number of arguments fit
// the synopsis.
func (cmd *command) dispatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg && cmd.neg == nil {
		ts.Fatalf("%s does not support !", cmd.name)
	}
	c := &call{ts: ts, cmd: cmd, neg: neg}
	sy := cmd.syntax
	if neg {
		sy = cmd.negSyntax
	}
	var err error
	c.opts, c.args, err = sy.parse(args, func(s string) string { return expand(ts, s) })
	if errors.Is(err, errUsage) {
		c.usage()
	} else if err != nil {
		ts.Fatalf("%s: %v", cmd.name, err)
	}
	c.s = getSession(ts)
	c.s.tr.beginCommand()
	cmd.run(c)
}

// usage fails the script with the synopsis of the command, as a call whose
// arguments do not fit it.
func (c *call) usage() {
	c.ts.Fatalf("usage: %s", c.cmd.synopsis(c.neg))
}

// synopsis returns the synopsis of the command, or of its ! form.
func (cmd *command) synopsis(neg bool) string {
	s, args := cmd.name, cmd.args
	if neg {
		s = "! " + s
		if cmd.neg.args != "" {
			args = cmd.neg.args
		}
	}
	if args != "" {
		s += " " + args
	}
	return s
}
