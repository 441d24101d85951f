// Package conformance checks any roomchat server against PROTOCOL.md by
// running scripts (testscripts/*.txtar) against it over TCP. It knows a
// server only as an address, or as a command that starts one; it never
// imports the reference server.
//
// # Scripts
//
// A script is a testscript file (github.com/rogpeppe/go-internal/testscript).
// It begins with header comments:
//
//	# tags: core, ping      the extensions (PROTOCOL.md 1.1) it needs; it runs
//	                        only if the server implements all of them.
//	                        "robustness" marks a robustness script (hostile
//	                        clients beside well-behaved ones); it is not an
//	                        extension, needs no declaration in a manifest,
//	                        and -tags can leave such scripts out
//	# rules: JOIN-3 JOIN-4  the requirements it checks, for coverage reports
//	# server: -max-clients 2
//	                        optional: it needs a server of its own, started
//	                        with these extra flags (-exec); with -addr it is
//	                        skipped
//
// The tags are those of PROTOCOL.md 1.1: core, ping, input, limits,
// ratelimit, shutdown, the transports tls, framed and ws, and the
// extensions of section 13, caps, accounts, history, durable and rooms (a script
// names caps too when it enables an extension with CAPS), cluster (the
// profile of section 14), and robustness.
// A script that uses the restart command needs a "# server:" header (the
// runner finds the command in the script, and refuses to load a script
// without the header): it runs only on a server that the suite starts for
// it and can restart (-exec, or a StartFunc whose servers are
// Restarters), and is skipped on -addr. An -exec command can hold {dir},
// a new empty directory for each script's server that its restarts keep
// and that is removed afterwards, for state that must survive a restart:
// -exec 'chatd -addr {addr} -db {dir}/chat.db' runs the durable scripts.
//
// A script of the cluster tag runs on a cluster that the suite starts for
// it (ExecCluster, chatconform -cluster-nodes N; its servers are
// Clusters): connect -node N reaches node N, killnode and stopnode end
// one, stoplog and startlog stop and start the service the nodes share
// (-cluster-log). The runner finds the highest node a script names, and
// whether it stops the log, and skips it on a cluster that lacks them;
// such a script must have the cluster tag and a "# server:" header.
//
// Then a "#" comment opens each phase; a failure shows the failing phase.
// Every script gets these environment variables:
//
//	$U        a unique suffix of exactly 6 lower-case letters and digits, so
//	          that scripts can share one server: USERNAME alice$U, JOIN #room$U
//	$ADDR     the server's address, which restart updates
//	$TIMEOUT  how long a command waits for one line (default 5s)
//	$PING     1 if the server implements the ping extension, else 0
//	$FRESH    1 if the server was started for this script alone
//
// and a condition for each tag, [core], [ping], [input], [limits],
// [ratelimit], [shutdown], [tls], [framed], [ws], [caps], [accounts],
// [history], [durable], [rooms], [cluster] (the extension is being tested)
// and [robustness],
// and [fresh].
//
// The commands expand $VARIABLES in their arguments themselves, so $U works
// inside single quotes too; write $$ for a literal $. Quote any argument that
// holds # or spaces: testscript ends a line at an unquoted #. A command's
// options come before its other arguments, in any order, each at most once
// unless its synopsis marks it with ...; options separated by | exclude each
// other.
//
// Where a command takes NAME... (or NAMES, a comma-separated list, or
// ROOM...), a word may hold one numeric range: PREFIX{A..B}SUFFIX stands for
// PREFIX<A>SUFFIX ... PREFIX<B>SUFFIX, at most 100000 words, so that
// 'quiet c{1..500}' proves 500 clients silent and '#r{1..3}$U' names three
// rooms.
//
// A failure (ts.Fatalf) reports the first difference and the transcript of
// every client of the script, in order: what each sent ("alice> ...") and
// received ("alice< ..."), lines not yet read by the script marked
// "(unread)", unusual bytes quoted.
//
// # Commands
//
// Connections:
//
//	connect [-rcvbuf BYTES] [-node N] NAME...
//	                         open one TCP connection per name to $ADDR; a name
//	                         may be reused once its connection is over. -node:
//	                         to node N of the cluster started for the script
//	                         instead (1 is $ADDR's). -rcvbuf sets each socket's
//	                         receive buffer to BYTES before it connects
//	                         (SO_RCVBUF, which the kernel may round up), so
//	                         that once NAME stops reading the server's output
//	                         to it is pending after a few kilobytes, however
//	                         large the kernel would have let the buffer grow
//	                         (for WriteTimeout: LIMIT-4)
//	! connect NAME           the server must refuse the connection
//	connectmany N PREFIX     connect PREFIX1 ... PREFIXN
//	disconnect NAME...       close abruptly (FIN), without QUIT
//	reset NAME...            close with SO_LINGER 0, so the server gets a RST
//	halfclose NAME...        shut down the writing side; NAME can still read
//	stopread NAME...         stop reading from the socket (a slow consumer)
//	resumeread NAME...       read again
//	readrate NAME BYTES      read at most BYTES bytes a second on average (a
//	                         slow reader, which still reads); 0 for no limit
//	churn [-name] [-join ROOM] [-send QUOTED] [-quit | -reset | -refused] N PREFIX
//	                         N connections PREFIX1 ... PREFIXN, one after the
//	                         other, each of its own (not a script client, not
//	                         in the transcript): connect; with -name, USERNAME
//	                         PREFIXi, answered OK Welcome; with -join, JOIN
//	                         ROOM, answered OK Joined (what follows is not
//	                         checked); with -send, the bytes of QUOTED, as
//	                         sendraw decodes them (a partial line, say); then
//	                         close (FIN), or -quit: QUIT, answered OK Goodbye!
//	                         after any lines of the grammar, then the close;
//	                         -reset: close with SO_LINGER 0 (RST); -refused:
//	                         the server answers ERROR Server full and closes,
//	                         and no other option is allowed. %d in ROOM and
//	                         QUOTED is i. Each wait is bounded by $TIMEOUT and
//	                         the whole command by 20 times $TIMEOUT
//
// Sending (LINE is sent as is; the command adds the terminator):
//
//	send NAME LINE           LINE and CRLF, in one write
//	sendlf NAME LINE         LINE and a bare LF
//	sendraw NAME QUOTED      the bytes of the body of a Go string literal: \r
//	                         \n \t \xHH \uHHHH \\ \" are escapes, and, as in
//	                         PROTOCOL.md's transcripts, \x{N} is N bytes of x.
//	                         No terminator is added.
//	sendsplit NAME LINE      LINE and CRLF, one byte per write
//	sendlong [-prefix TEXT] [-lf | -noterm] NAME N
//	                         TEXT, N bytes of x, then CRLF (or LF, or nothing)
//	sendmany NAME LINE...    every LINE with CRLF, all in one write
//	sendframe [-length N | -binary] NAME QUOTED
//	                         over framed4, framed8 or ws only: one frame, or
//	                         one WebSocket message, whose payload is the bytes
//	                         of QUOTED (decoded as by sendraw), as they are, so
//	                         that the payload can hold a CR or an LF (TRANS-3,
//	                         TRANS-5). A frame's header announces its length,
//	                         or N with -length (a frame cut short, or one
//	                         longer than what follows); a message is text, or
//	                         binary with -binary
//	floodsend [-bg] [-rate N] NAME COUNT TEMPLATE...
//	                         COUNT rounds of lines, one per TEMPLATE with %d
//	                         replaced by the round 1..COUNT, written as fast as
//	                         the server takes them, in chunks of 16 KiB. With
//	                         -rate, N rounds a second (N > 0, fractional
//	                         allowed): round i, in one write, goes out no
//	                         earlier than start + (i-1)/N; rounds that fall due
//	                         while the server is slow to read go out at once
//	                         when it reads again, none skipped. NAME records
//	                         when each round was sent, for recvmany -from: with
//	                         -rate, when it was due (so that a server that
//	                         stops reading NAME is charged for the delay);
//	                         without, just before the write of the chunk
//	                         holding its first byte. A floodsend replaces the
//	                         record of the one before. With -bg the flood is
//	                         written by a goroutine of its own while the script
//	                         goes on (later writes of NAME wait for it)
//	floodwait NAME           wait until the background flood of NAME is
//	                         written; fail if it could not be
//	sendeach [-raw] NAMES TEMPLATE
//	                         to each client of NAMES in turn, TEMPLATE with %d
//	                         = its position 1, 2, ... in NAMES, and CRLF, one
//	                         write each; with -raw, TEMPLATE is decoded as by
//	                         sendraw and nothing is added (a partial line, one
//	                         byte of a line dribbled out)
//
// Receiving. Each command consumes lines in order and waits up to $TIMEOUT
// for each; every line must end in CRLF (FRAME-2), and a line that a pattern
// accepts must be in the server grammar (GRAM-6):
//
//	recv NAME LINE           the next line is exactly LINE
//	! recv NAME LINE         the next line, if one comes within $TIMEOUT, is
//	                         consumed and must differ from LINE; no line at all
//	                         passes too (prefer quiet to prove silence)
//	expect NAME REGEXP       the next line matches REGEXP (anchor it: ^...$)
//	! expect NAME REGEXP     the next line, if one comes within $TIMEOUT, is
//	                         consumed and must not match REGEXP; no line at all
//	                         passes too (prefer quiet to prove silence)
//	recvmany [-also LINE]... [-skip REGEXP] [-from NAME [-within DURATION] [-spread DURATION]] NAME COUNT TEMPLATE...
//	                         the next lines are COUNT rounds of one line per
//	                         TEMPLATE, with %d = the round 1..COUNT, in order,
//	                         with each -also LINE once somewhere among or after
//	                         them. Options come in any order before NAME.
//	                         -skip: a line matching REGEXP that is neither the
//	                         next line expected nor a pending -also line is
//	                         skipped (it must be in the grammar). -from: the
//	                         lines come from the latest floodsend of that
//	                         client, which must have COUNT rounds of as many
//	                         TEMPLATEs; each line is timed from when its round
//	                         was sent (floodsend) to when it arrived (not when
//	                         the script got to it). -within: each line arrives
//	                         within DURATION of its round (a server that holds
//	                         back its room fails); the maximum and 99th
//	                         percentile are logged. -spread: the last line
//	                         arrives at least DURATION after round 1 was sent
//	                         (a server that paces the sender's reading, such as
//	                         a rate limit, must not deliver the lines sooner)
//	recveach NAMES TEMPLATE  the next line of each client of NAMES is TEMPLATE
//	                         with %d = its position 1, 2, ... in NAMES
//	recvmerge NAME[,NAME]... [-any] COUNT TEMPLATE [[-any] COUNT TEMPLATE]...
//	                         each NAME receives every stream (TEMPLATE with %d
//	                         = 1..COUNT), each stream in order, interleaved in
//	                         one way that must be the same for every NAME
//	                         (ORDER-2); the lines of a -any stream may come in
//	                         any order among themselves, each once (such as the
//	                         LEAVE notes of many disconnects: DISC-3)
//	recvrooms NAME [ROOM...] the next line is a ROOMLIST sorted by folded name
//	                         (ROOMS-1) whose rooms are exactly ROOM..., given
//	                         in any order; on a shared server, only rooms
//	                         ending in $U count
//	recvmsg [-stored] [-count N] [-id ID] [-new] [-set VAR] NAME ROOM USER TEXT
//	                         the next line is MESSAGE <id> <time> ROOM USER
//	                         TEXT, with -stored HISTORY <id> <time> ROOM USER
//	                         TEXT (a line of a HISTORY reply), with any valid
//	                         ID and time (PROTOCOL.md 13.3); with -count, the
//	                         next N such lines, %d in TEXT = 1..N. Every line
//	                         it matches is recorded for the whole script run,
//	                         restarts included, and checked against the record
//	                         (HIST-1): one ID always shows the same time, room,
//	                         user and text; a larger ID never has an earlier
//	                         time; on each connection the IDs of the MESSAGE
//	                         lines since its latest OK Joined increase, and so
//	                         do those of the HISTORY lines of one reply. -id:
//	                         the ID is ID (the message another client was
//	                         shown: HIST-2). -new: the ID is above every ID
//	                         recorded so far (for a message sent after the
//	                         script saw all of those). -set: $VAR is set to the
//	                         ID (with -count, that of the first line), for the
//	                         lines that follow: 'HISTORY #log$U $first 10'
//	unseen TEXT...           no line that any client of the script has received
//	                         so far, on any of its connections, holds TEXT: for
//	                         what a server must never send, such as a password
//	                         (ACCT-6). Use it after quiet, once every line has
//	                         arrived
//	quiet NAME...            nothing more has arrived: each NAME sends PING
//	                         quiet-N and the very next line must be PONG
//	                         quiet-N (PING-2); without the ping extension, no
//	                         line may arrive for 300 ms
//	closed [-skip REGEXP] [-partial] [-reset] NAME...
//	                         the server closes the connection (EOF or reset)
//	                         before any other line; lines matching REGEXP are
//	                         skipped; -partial allows a last line cut short (a
//	                         connection cut off for a write timeout or a
//	                         reset); with -reset the connection must end with a
//	                         reset, not a clean end of stream: the abortive
//	                         close of a slow consumer (LIMIT-8). Lines that
//	                         reached NAME before the reset may be read first
//	await [-fresh [-node N]] NAME LINE REPLY
//	                         send LINE until it is answered REPLY, for at most
//	                         $TIMEOUT: for states that settle at a time no
//	                         client can observe, such as a name freed by a
//	                         disconnect (DISC-3). LINE must be answered with
//	                         one line. -fresh: each try is a new connection
//	                         called NAME (to node N of a cluster with -node),
//	                         which waits half a second at most for its answer;
//	                         the one answered REPLY stays open. For a state in
//	                         which a line may go unanswered for a while, such
//	                         as a cluster's log going down (CLUSTER-7)
//
// The server and time:
//
//	shutdown                 SIGTERM to the server started for this script
//	                         (needs a "# server:" header)
//	restart [-kill]          restart the server started for this script:
//	                         SIGTERM, and wait until it exits, or SIGKILL with
//	                         -kill (a crash); then start it again with the same
//	                         command line, flags and {dir}, and wait until it
//	                         accepts connections. $ADDR follows it if its port
//	                         changes. The connections to the server that
//	                         stopped are over (check them with closed). The
//	                         runner sees restart in a script: the script needs
//	                         a "# server:" header and runs only on a server the
//	                         suite starts (-exec), and is skipped on -addr
//	killnode N               SIGKILL to node N of the cluster started for this
//	                         script (a script of the cluster tag): it ends at
//	                         once, and its connections with it; wait until it
//	                         has ended
//	stopnode N               SIGTERM to node N of the cluster, and wait until
//	                         it exits (SHUT-1 for its own clients)
//	stoplog                  stop the service the cluster's nodes share
//	                         (-cluster-log): the cluster's log is unreachable
//	                         until startlog. A script that uses it is skipped
//	                         on a cluster without -cluster-log
//	startlog                 start the log service again where the nodes expect
//	                         it, and wait until it accepts connections
//	sleep DURATION           wait, for the timeouts of sections 8 and 9
//	                         (LIMIT-7, SHUT-2); never to synchronise (use
//	                         quiet)
//	mark MARK                start the stopwatch MARK now, for arrived
//	                         (stopwatches have names of their own: MARK may be
//	                         a client's name too)
//	arrived [-after DURATION] [-before DURATION] MARK NAME
//	                         what the script consumed last from NAME (the line
//	                         of the latest recv, expect, ..., or the end of the
//	                         stream that closed saw) arrived at least -after
//	                         and less than -before after mark MARK, by the time
//	                         the client received it, not when the script got to
//	                         it: a lower and an upper bound on a timeout
//	                         (LIMIT-4, LIMIT-7, LIMIT-11). Without -after, a
//	                         line that arrived before the mark passes too. Give
//	                         bounds seconds wide of the value the protocol
//	                         implies, so that a loaded machine passes and a
//	                         timeout off by a whole period fails
//
// Verdicts. A failure counts against a MUST of PROTOCOL.md unless it happens
// between should and must:
//
//	should RULE              the assertions from here on check RULE, a SHOULD
//	                         of PROTOCOL.md (a recommendation): if one fails,
//	                         the script's verdict is NON-STRICT, not FAIL,
//	                         unless chatconform runs with -strict. The script's
//	                         "# rules:" header names RULE
//	serializable             check what every client sent and received so far
//	                         against the model, whatever order the server took
//	                         the lines in: after two PING rounds that make the
//	                         record complete, one order of all the lines sent
//	                         must exist that keeps each client's order and real
//	                         time (ORDER-4) and produces exactly the lines each
//	                         client received (ORDER-1, ORDER-2). Every line
//	                         received up to the second PONG is consumed. The
//	                         model starts with no users and no rooms: every
//	                         client of the script counts, and none may send
//	                         ROOMS, which would list the rooms of other scripts
//	                         sharing the server. A script that sends from
//	                         several clients at once, without waiting, ends
//	                         with it: that is how a race found by chatconform
//	                         -concurrent is replayed
//	must                     the assertions from here on check MUSTs again (the
//	                         default)
//
// Only connect, recv and expect accept the ! prefix; every other command
// refuses it.
//
// # Running
//
// The chatconform command (cmd/chatconform) runs the embedded suite against
// -addr or -exec; RunTests runs it under go test; the Runner does both.
// Both first run Runner.Preflight, which checks that the server can be
// tested at all (it starts, listens and answers in the grammar of
// PROTOCOL.md), so that a wrong address fails once rather than in every
// script.
//
// Each script ends with one verdict (Status): PASS; FAIL, a MUST of
// PROTOCOL.md broken; NON-STRICT, an assertion of a SHOULD failed (inside a
// should region), which is reported but is no failure unless Config.Strict;
// UNIMPLEMENTED, the script tests an extension that the manifest does not
// declare; SKIP, not run for another reason (-tags, or a script that needs
// a server of its own, or restarts it, against -addr); XFAIL, a failure
// the manifest declares as a deviation; XPASS, a declared deviation that
// passes, a failure asking for the manifest to be updated. Expectations pin the
// verdicts of a run, so that a later run fails only when one changes.
// WriteHTML and WriteMatrix write reports people read: a page per script
// with its wire log and the rules it checks, a table per section of
// PROTOCOL.md, and a matrix of several servers.
//
// Coverage of the requirements of PROTOCOL.md is reported by WriteCoverage,
// from Requirements, which go generate keeps in step with PROTOCOL.md: for
// each requirement, how many independent means check it, each script one,
// the model checker one and the transcripts of PROTOCOL.md one (means.go
// lists the rules of the last two), and a test requires two means for
// every requirement.
package conformance

// The # Commands section above is generated from the command table of
// internal/commands, which also checks the calls of the scripts against it.
//go:generate go test -run TestCommandReference -update
