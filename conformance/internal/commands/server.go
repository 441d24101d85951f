package commands

import (
	"time"
)

// The commands of the server and time: shutdown, sleep.

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

// sleep DURATION
func cmdSleep(c *call) {
	d, err := time.ParseDuration(c.args[0])
	if err != nil {
		c.ts.Fatalf("sleep: %v", err)
	}
	time.Sleep(d)
}
