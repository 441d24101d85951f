package concurrent

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// GenConfig shapes the random programs of Generate.
type GenConfig struct {
	Clients int // lanes, 2 to 16
	Actions int // actions per lane
	// Suffix makes the names and rooms of one program its own, so that
	// programs can share a server.
	Suffix string
}

// Generate returns a random program: each lane names itself from a small
// pool of names (so that lanes race for them), joins one of two rooms,
// talks, sends private messages to names of the pool, leaves, lists users
// and rooms, pings, and sometimes quits and comes back on a new
// connection. Lines are often written back to back, without a pause,
// which is where races show.
func Generate(rng *rand.Rand, cfg GenConfig) Program {
	names := []string{"ann", "bob", "cat", "dan", "eve", "fay"}
	names = names[:min(len(names), max(2, cfg.Clients/2+1))]
	rooms := []string{"#a", "#b"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] + cfg.Suffix }
	var p Program
	for lane := range cfg.Clients {
		var acts []Action
		pings := 0
		add := func(line string) {
			var pause time.Duration
			if rng.IntN(10) >= 4 {
				pause = time.Duration(rng.IntN(2000)) * time.Microsecond
			}
			acts = append(acts, Action{Pause: pause, Line: line})
		}
		named := false
		for i := 0; i < cfg.Actions; i++ {
			if !named || rng.IntN(20) == 0 {
				add("USERNAME " + pick(names))
				named = true
				continue
			}
			switch r := rng.IntN(100); {
			case r < 18:
				add("JOIN " + pick(rooms))
			case r < 45:
				add(fmt.Sprintf("MSG m%d-%d", lane+1, i))
			case r < 52:
				add(fmt.Sprintf("t%d-%d", lane+1, i)) // a text line: a room message too (MSG-4)
			case r < 60:
				add("LEAVE")
			case r < 72:
				add(fmt.Sprintf("PRIVMSG %s p%d-%d", pick(names), lane+1, i))
			case r < 77:
				add("USERS")
			case r < 80:
				add("ROOMS")
			case r < 94:
				pings++
				add(fmt.Sprintf("PING c%d-%d", lane+1, pings))
			default:
				add("QUIT")
				named = false
			}
		}
		p.Lanes = append(p.Lanes, acts)
	}
	return p
}
