package impl

import (
	"bytes"
	"container/list"
	"log/slog"
	"time"

	"roomchat.dev/roomchat/impl/cluster"
	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/impl/store"
	"roomchat.dev/roomchat/spec"
)

// loop is the one goroutine that owns all chat state: users, rooms, and each
// client's name, rooms and flow-control state. It applies events one at a
// time, which is the single order of ORDER-1, and never blocks on a socket.
type loop struct {
	// Immutable after newLoop.
	srv       *Server
	cfg       *Config
	log       *slog.Logger
	highWater int
	lowWater  int

	// Channels into the loop, named by direction.
	registerIn chan *client     // accept -> loop: a new connection
	refusedIn  chan struct{}    // refusals -> loop (capacity 1): Server.refused went from 0 to 1
	eventsIn   chan readEvent   // readers -> loop: a line, an overlong line, or the end
	writerIn   chan writerEvent // writers -> loop: a queue drained, or a write failed
	shutdownIn <-chan struct{}  // Shutdown -> loop: closed to stop
	done       chan struct{}    // closed by the loop when it exits
	// toLoop reports on writerIn, for writer goroutines; reportInline
	// keeps, in inline, what the loop's own writes report (startWriters),
	// for the end of the turn.
	toLoop       report
	reportInline report
	inline       []writerEvent

	// Owned by the loop goroutine.
	clients   map[*client]struct{} // every registered, open connection
	users     map[string]*client   // named clients by spec.Fold(name) (NAME-4)
	rooms     map[string]*room     // existing rooms by spec.Fold(name)
	idle      *list.List           // clients ordered by lastActive, oldest first
	idleTimer timer                // fires on idleFired when the oldest may have expired
	idleFired <-chan time.Time
	idleArmed bool
	// The flush list (flush.go): clients whose lines wait for the flush
	// timer to start their writer.
	flushList  []*client
	flushTimer *time.Timer
	flushArmed bool
	// actor is the client whose line is being applied: output to it is
	// urgent (flush.go).
	actor     *client
	ready     []*client  // clients whose postponed line may run now (flow.go)
	lined     []*client  // clients whose next line of a batch may run now (settleItems)
	taken     int        // batches of lines this turn took from readers itself (takeBuffered)
	rawRead   *rawReader // the loop's reads for readers that wait (fillNow)
	doomed    []*client  // clients in phaseDoomed, to close once the current item is done
	handing   []*client  // clients the turn queued lines for (outQueue.handOver)
	starting  []*client  // clients whose writer starts when the turn is done (writer.go)
	gateEpoch uint64     // see client.gateMark
	// turnClock is the server's clock as read for the current turn's
	// activity stamps, if turnClockRead (activeNow).
	turnClock     time.Duration
	turnClockRead bool
	scratch       []*client // reused by the gate
	// The stall timer (flow.go) fires when a hot client's stall budget or a
	// postponed line's wait runs out; the lists hold the clients it checks.
	stallers   []*client // clients that some line waits for
	postponed  []*client // clients whose line waits
	stallTimer *time.Timer
	stallArmed bool
	stallAt    time.Duration // a now() reading, when armed
	// The counts of the "connections" record (log.go), and the timer that
	// logs them every LogInterval while there is something to count.
	counts      connCounts
	countsTimer timer
	countsFired <-chan time.Time
	countsArmed bool
	// The watch of output that returns memory after a burst (memory.go).
	mem memWatch

	// The extensions of section 13 (doc.go, "Extensions"). The backends
	// are set up by Open before the loop runs; each is nil if unused.
	pool        hasher                  // passwords: hashes and verifies (accounts offered)
	writer      storeWriter             // with a database: commits messages and accounts
	reader      storeReader             // with a database: fetches history
	hashedIn    chan passwd.Result      // pool -> loop
	committedIn chan store.Committed    // writer -> loop
	fetchedIn   chan store.Fetched      // reader -> loop
	stored      *memStore               // history kept in memory, without a database
	accounts    map[string]*account     // by folded name (accounts.go)
	putPending  map[string]int          // folded names with an account or password being committed
	dummyHash   string                  // what a LOGIN of an unknown name is verified against
	tasks       map[uint64]*client      // the client whose task waits for each token (async.go)
	nextToken   uint64                  // the last token given
	backlog     [numQueues][]*client    // tasks waiting for room in a queue, oldest first
	lastID      uint64                  // the last message ID given (HIST-1)
	lastTime    time.Time               // the time of that message
	lastStored  uint64                  // with a database: the last message ID committed and processed
	buckets     map[string]*loginBucket // login buckets by source address (logins.go)
	wakeups     wakeups                 // when paused clients and buckets are due (logins.go)
	loginTimer  *time.Timer
	loginArmed  bool
	loginAt     time.Duration // a now() reading, when armed

	// A cluster node (clusternode.go): nil on a single server, and then
	// the channels are nil too, which no case of run ever receives from.
	cl          *clusterState
	entriesIn   <-chan cluster.Entry
	deadIn      <-chan string
	upIn        <-chan bool
	linkErrIn   <-chan error
	outboxFired <-chan time.Time
}

func newLoop(s *Server) *loop {
	l := &loop{
		srv:        s,
		cfg:        &s.cfg,
		log:        s.cfg.Logger,
		highWater:  s.cfg.highWater(),
		rawRead:    newRawReader(),
		lowWater:   s.cfg.lowWater(),
		registerIn: make(chan *client),
		refusedIn:  make(chan struct{}, 1),
		eventsIn:   make(chan readEvent),
		writerIn:   make(chan writerEvent),
		shutdownIn: s.closing,
		done:       make(chan struct{}),
		clients:    make(map[*client]struct{}),
		users:      make(map[string]*client),
		rooms:      make(map[string]*room),
		idle:       list.New(),
		flushTimer: newStoppedTimer(),
		stallTimer: newStoppedTimer(),
		putPending: make(map[string]int),
		tasks:      make(map[uint64]*client),
		buckets:    make(map[string]*loginBucket),
		loginTimer: newStoppedTimer(),
		mem:        newMemWatch(),
	}
	l.toLoop = toLoop(l.writerIn, l.done)
	l.reportInline = func(ev writerEvent) bool {
		l.inline = append(l.inline, ev)
		return true
	}
	l.idleTimer, l.idleFired = s.clock.newTimer()
	l.countsTimer, l.countsFired = s.clock.newTimer()
	l.counts.since = s.clock.now()
	return l
}

// run is the loop goroutine. Each case is one item of ORDER-1; settle then
// runs the items it made ready (closes of slow consumers, lines resumed by
// flow control) before the next event is taken. A turn of the loop goes on
// with the lines readers have ready (moreReads), and ends by starting the
// writers it asked for, so that a client gets one write a turn however
// many lines the turn sent it.
func (l *loop) run() {
	defer l.srv.wg.Done()
	defer l.srv.closeBackends()
	defer close(l.done)
	for {
		select {
		case c := <-l.registerIn:
			l.register(c)
		case ev := <-l.eventsIn:
			l.fromReader(ev)
		case ev := <-l.writerIn:
			l.onWriter(ev)
		case <-l.idleFired:
			l.onIdleTimer()
		case <-l.flushTimer.C:
			l.onFlushTimer()
		case <-l.stallTimer.C:
			l.onStallTimer()
		case <-l.countsFired:
			l.onCountsTimer()
		case <-l.mem.timer.C:
			l.onMemTimer()
		case <-l.refusedIn:
			l.armCounts()
		case r := <-l.hashedIn:
			l.onHashed(r)
		case b := <-l.committedIn:
			l.onCommitted(b)
		case f := <-l.fetchedIn:
			l.onFetched(f)
		case <-l.loginTimer.C:
			l.onLoginTimer()
		case en := <-l.entriesIn:
			l.onEntry(en)
		case node := <-l.deadIn:
			l.onNodeDead(node)
		case up := <-l.upIn:
			l.onLinkUp(up)
		case err := <-l.linkErrIn:
			l.onLinkError(err)
		case <-l.outboxFired:
			l.onOutboxTimer()
		case <-l.shutdownIn:
			l.shutdown()
			return
		}
		l.settleItems()
		l.moreReads()
		l.endTurn()
	}
}

// fromReader handles what a reader handed over: the reader now waits to
// be resumed (readerWaits) and touches none of its state meanwhile.
func (l *loop) fromReader(ev readEvent) {
	ev.c.readerWaits = true
	l.onRead(ev)
}

// endTurn starts the writers of the turn (startWriters), and applies what
// the loop's own writes reported, each as an item of its own, until they
// report nothing more.
func (l *loop) endTurn() {
	l.taken = 0
	l.turnClockRead = false
	l.startWriters()
	for len(l.inline) > 0 {
		evs := l.inline
		l.inline = nil
		for _, ev := range evs {
			l.onWriter(ev)
			l.settleItems()
		}
		l.startWriters()
	}
}

// turnReads is the most lines a turn of the loop takes from readers after
// its first event (moreReads). It bounds how long the other events (timers,
// writers' reports, new connections) and the writers of the turn wait.
const turnReads = 64

// moreReads goes on with the lines that readers have ready, one item at a
// time as run does, up to turnReads of them, and returns as soon as none
// is: under load a turn covers many lines, as one turn of an epoll loop
// covers every socket that is readable, and what they send each client
// goes out in one write.
func (l *loop) moreReads() {
	for range turnReads {
		select {
		case ev := <-l.eventsIn:
			l.fromReader(ev)
			l.settleItems()
		default:
			return
		}
	}
}

// register adopts a new connection and starts its reader. Its writer
// starts when there is something to write (loop.send).
func (l *loop) register(c *client) {
	l.clients[c] = struct{}{}
	c.lastActive = l.activeNow()
	c.idleElem = l.idle.PushBack(c)
	l.armIdle()
	if l.clustered() {
		l.cl.local[c.id] = c
	}
	l.srv.wg.Add(1)
	go c.readLoop(l.eventsIn)
	l.countConnect()
	if l.debugEnabled() {
		l.log.Debug("connect", "conn", c.id, "remote", c.remote())
	}
}

// item is one client line, checked and parsed, ready to be applied.
type item struct {
	errText string // an ERROR to answer instead (framing or usage), if not ""
	cmd     spec.Command
	secret  bool // the line is a LOGIN, REGISTER or PASSWORD: it holds a password
}

// onRead handles what a reader handed over.
func (l *loop) onRead(ev readEvent) {
	c := ev.c
	if c.phase == phaseClosed {
		return // STATE-4: e.g. lines after QUIT
	}
	if l.clustered() {
		if !ev.terminal() {
			l.touch(c)
		}
		l.publishRead(c, ev) // applied when it comes back from the log
		return
	}
	if ev.terminal() {
		why := closeCause{reason: Disconnected, detail: ev.err.Error()}
		if c.phase == phaseMute {
			why = c.cause // the failed write ended it; the reader only confirms
		}
		l.closeClient(c, why)
		return
	}
	if ev.more != nil {
		c.more = ev.more // processed one by one before the reader goes on (settleItems)
	}
	l.touch(c) // every line counts as activity (LIMIT-7)
	it := parse(ev, l.words(c))
	if l.debugEnabled() {
		line := ev.line
		if it.secret {
			line = redacted(line)
		}
		l.log.Debug("line", "conn", c.id, "line", loggedLine(line), "overlong", ev.err != nil)
	}
	l.process(c, it)
}

// redacted returns a line that carries a password (LOGIN, REGISTER,
// PASSWORD) as it is logged: its first word alone, so that no password
// reaches the log (ACCT-6).
func redacted(line []byte) []byte {
	word, _, _ := bytes.Cut(line, []byte(" "))
	return append(word[:len(word):len(word)], " (password redacted)"...)
}

// parse applies the framing checks of FRAME-9 and the grammar (GRAM-2), in
// that order (STATE-3), with the command words w of the client's
// connection. All the client's earlier lines have been processed by then
// (the loop takes a batch's lines one at a time), so w is final.
func parse(ev readEvent, w spec.Words) item {
	if ev.err == spec.ErrLineOverflow {
		return item{errText: spec.ErrLineTooLong}
	}
	if msg := spec.CheckLine(ev.line); msg != "" {
		return item{errText: msg}
	}
	cmd, err := spec.ParseCommandWith(string(ev.line), w)
	if err != nil {
		u := err.(*spec.UsageError)
		return item{errText: u.Text(), secret: holdsPassword(u.Kind)}
	}
	return item{cmd: cmd, secret: holdsPassword(cmd.Kind)}
}

// holdsPassword reports whether a line of kind k carries a password.
func holdsPassword(k spec.Kind) bool {
	return k == spec.Login || k == spec.Register || k == spec.Password
}

// process applies a line unless flow control defers it, then lets the
// reader go on, unless the line waits for work outside the loop (async.go)
// or a failed login pauses the client (logins.go).
func (l *loop) process(c *client, it item) {
	if l.gate(c, it) {
		return // the reader stays paused until the line has run
	}
	l.endWait(c)
	l.actor = c
	l.dispatch(c, it)
	l.actor = nil
	l.resumeIfFree(c)
}

// settle ends a turn of the loop without more reads: it runs what the
// last item made ready (settleItems) and starts the writers the turn asked
// for.
func (l *loop) settle() {
	l.settleItems()
	l.endTurn()
}

// settleItems runs what the last item made ready, one item at a time:
// closes of clients found to be slow consumers, then deferred lines whose
// recipients have drained, then the next line of each reader's batch whose
// line before it is done.
func (l *loop) settleItems() {
	for {
		switch {
		case len(l.doomed) > 0:
			c := l.doomed[0]
			l.doomed = l.doomed[1:]
			l.endClient(c, c.cause)
		case len(l.ready) > 0:
			c := l.ready[0]
			l.ready = l.ready[1:]
			if !c.reading() || c.deferred == nil {
				continue
			}
			it := *c.deferred
			c.deferred = nil
			l.process(c, it)
		case len(l.lined) > 0:
			c := l.lined[0]
			l.lined = l.lined[1:]
			c.moreListed = false
			if !c.reading() || len(c.more) == 0 || c.deferred != nil || c.task != nil || c.pauseUntil != 0 {
				continue
			}
			line := c.more[0]
			c.more[0] = nil
			c.more = c.more[1:]
			if len(c.more) == 0 {
				c.more = nil
			}
			l.onRead(readEvent{c: c, line: line})
		default:
			return
		}
	}
}

// send queues line to c. The bytes are shared with other recipients and
// must not change. A client whose queue would pass MaxQueueBytes is a slow
// consumer: nothing more is queued for it, and it is closed abortively,
// without a further line, as soon as the current item is done (LIMIT-4,
// LIMIT-8).
func (l *loop) send(c *client, line []byte) {
	if c.ghost || !c.queuing() {
		return // doomed, mute or closed: nothing more goes out (STATE-4)
	}
	if c.holding {
		l.hold(c, line) // after the reply to a HISTORY (async.go)
		return
	}
	hot, ok, first := c.out.push(line, l.cfg.MaxQueueBytes, l.highWater, c.over, c == l.actor)
	if !ok {
		l.doom(c, closeCause{reason: SlowConsumer, detail: "output queue over MaxQueueBytes"})
		return
	}
	l.noteOutput(len(line))
	if first {
		l.handing = append(l.handing, c)
	}
	if hot {
		l.setOver(c, true)
	}
}

// wire formats line once, with its CRLF, into a slice of the right size:
// the bytes that go to every recipient.
func wire(line spec.ServerLine) []byte {
	return line.AppendWire(make([]byte, 0, wireSize(line)))
}

// wireSize returns at least the length of line on the wire, with its CRLF.
func wireSize(line spec.ServerLine) int {
	n := len("PRIVMSG ") + len(line.Room) + 1 + len(line.User) + 1 + len(line.Text) + len("\r\n")
	if line.Time != "" {
		n += len(" 18446744073709551615 ") + len(line.Time) // MESSAGE, HISTORY
	}
	for _, s := range line.List {
		n += 1 + len(s)
	}
	return n
}

// reply formats one line for c alone.
func (l *loop) reply(c *client, line spec.ServerLine) {
	l.send(c, wire(line))
}

// onWriter handles a writer's report. A writer that failed has exited and
// left the socket to the loop.
func (l *loop) onWriter(ev writerEvent) {
	c := ev.c
	switch {
	case ev.drained:
		if c.phase != phaseClosed {
			l.onDrained(c)
		}
	case c.phase == phaseClosed:
		c.closeConn() // it failed while the close was being processed
	case ev.reason == SlowConsumer:
		l.endClient(c, closeCause{reason: SlowConsumer, detail: "no byte written for " + l.cfg.WriteTimeout.String()})
	default:
		l.mute(c, ev.err)
	}
}

// shutdown sends every client the notice of SHUT-1 and closes them all
// gracefully, without LEAVE notes.
func (l *loop) shutdown() {
	l.idleTimer.Stop()
	l.flushTimer.Stop()
	l.stallTimer.Stop()
	l.loginTimer.Stop()
	l.log.Info("shutting down", "clients", len(l.clients))
	if l.clustered() {
		// The other nodes remove this node's users at once, rather than
		// when its heartbeats have stopped long enough.
		l.cl.link.TryPublish(appendEntry(nil, entry{kind: entryGone, payload: []byte(l.cl.node)}))
	}
	notice := spec.ErrorLine(spec.ErrShuttingDown).AppendWire(nil)
	for c := range l.clients {
		// Lines waiting for work outside the loop are abandoned; what
		// was queued for a client meanwhile goes out before the notice.
		l.releaseHeld(c)
		c.task = nil
		l.send(c, notice)
	}
	for c := range l.clients {
		l.closeClient(c, closeCause{reason: Shutdown})
	}
	l.doomed, l.ready = nil, nil
	l.startWriters() // the notices, and the graceful closes
	l.countsTimer.Stop()
	l.mem.timer.Stop() // after the notices, which armed it
	if l.cfg.LogInterval >= 0 {
		l.logCounts() // the last period, cut short; nothing if it was empty
	}
}
