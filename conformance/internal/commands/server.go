package commands

import (
	"fmt"
	"time"
)

// The commands of the server and time: shutdown, restart, sleep, mark,
// arrived.

// shutdown
func cmdShutdown(c *call) {
	if c.s.server == nil {
		c.ts.Fatalf("shutdown needs a server started for this script (-exec): give the script a '# server:' header")
	}
	c.s.tr.add(event{client: &Client{name: "server"}, kind: evNote, text: "asked to shut down"})
	if err := c.s.server.Shutdown(); err != nil {
		c.s.fatalf(c.ts, "shutdown: %v", err)
	}
}

// restart [-kill]
func cmdRestart(c *call) {
	r, ok := c.s.server.(Restarter)
	if !ok {
		c.ts.Fatalf("restart needs a server started for this script that the suite can restart (-exec): give the script a '# server:' header")
	}
	kill := c.opts.has("-kill")
	server := &Client{name: "server"}
	if kill {
		c.s.tr.add(event{client: server, kind: evNote, text: "killed (SIGKILL), to be started again"})
	} else {
		c.s.tr.add(event{client: server, kind: evNote, text: "asked to shut down (SIGTERM), to be started again once it has"})
	}
	if err := r.Restart(kill); err != nil {
		c.s.fatalf(c.ts, "restart: %v", err)
	}
	c.ts.Setenv(envAddr, r.Addr())
	c.s.tr.add(event{client: server, kind: evNote, text: "started again, listening on " + r.Addr()})
}

// sleep DURATION
func cmdSleep(c *call) {
	d, err := time.ParseDuration(c.args[0])
	if err != nil {
		c.ts.Fatalf("sleep: %v", err)
	}
	time.Sleep(d)
}

// mark NAME
func cmdMark(c *call) {
	name := expand(c.ts, c.args[0])
	c.s.marks[name] = time.Now()
	c.s.tr.add(event{client: &Client{name: "stopwatch"}, kind: evNote, text: "mark " + name})
}

// arrived [-after DURATION] [-before DURATION] MARK NAME
func cmdArrived(c *call) {
	ts, s := c.ts, c.s
	var after, before time.Duration
	if c.opts.has("-after") {
		after = durationArg(ts, "arrived -after", c.opts.value("-after"))
	}
	if c.opts.has("-before") {
		before = durationArg(ts, "arrived -before", c.opts.value("-before"))
	}
	if after == 0 && before == 0 {
		ts.Fatalf("arrived: give -after, -before or both")
	}
	if before > 0 && before <= after {
		ts.Fatalf("arrived: -before %v is not later than -after %v", before, after)
	}
	name := expand(ts, c.args[0])
	mark, ok := s.marks[name]
	if !ok {
		ts.Fatalf("arrived: no stopwatch called %q: start it with mark first", name)
	}
	cl := s.client(ts, expand(ts, c.args[1]))
	what, at, ok := cl.lastConsumed()
	if !ok {
		ts.Fatalf("arrived %s: the script has consumed nothing from %s yet: receive a line (or closed) first", cl.name, cl.name)
	}
	got := at.Sub(mark)
	where := fmt.Sprintf("  mark %s at %s, %s arrived at %s (transcript times)", name, s.tr.stamp(mark), what, s.tr.stamp(at))
	switch {
	case c.opts.has("-after") && got < after:
		s.fatalf(ts, "arrived %s: %s arrived %v after mark %s, sooner than -after %v\n%s",
			cl.name, what, got.Round(time.Millisecond), name, after, where)
	case before > 0 && got >= before:
		s.fatalf(ts, "arrived %s: %s arrived %v after mark %s, not before -before %v\n%s",
			cl.name, what, got.Round(time.Millisecond), name, before, where)
	}
	ts.Logf("arrived %s: %s arrived %v after mark %s", cl.name, what, got.Round(time.Millisecond), name)
}
