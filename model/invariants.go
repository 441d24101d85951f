package model

import (
	"fmt"

	"roomchat.dev/roomchat/spec"
)

// Check returns an error if s breaks an invariant that PROTOCOL.md implies:
// names are valid and unique (NAME-1, NAME-4), each user is in at most one
// room (STATE-1), a room exists exactly while it has members (JOIN-2,
// LEAVE-3), members are connected and named, room names are valid and
// unique, and history is bounded (JOIN-6).
func (s State) Check() error {
	names := map[string]bool{}
	for _, c := range s.conns {
		if c.name == "" {
			continue
		}
		if !spec.ValidUsername(c.name) {
			return fmt.Errorf("client %d has invalid name %q", c.id, c.name)
		}
		if names[spec.Fold(c.name)] {
			return fmt.Errorf("name %q is held twice", c.name)
		}
		names[spec.Fold(c.name)] = true
	}
	inRoom := map[ClientID]string{}
	roomNames := map[string]bool{}
	for _, r := range s.rooms {
		if !spec.ValidRoom(r.name) || roomNames[spec.Fold(r.name)] {
			return fmt.Errorf("room %q is invalid or duplicated", r.name)
		}
		roomNames[spec.Fold(r.name)] = true
		if len(r.members) == 0 {
			return fmt.Errorf("room %q exists without members", r.name)
		}
		if len(r.history) > spec.HistoryLen {
			return fmt.Errorf("room %q holds %d history lines", r.name, len(r.history))
		}
		for _, m := range r.members {
			if s.Name(m) == "" {
				return fmt.Errorf("room %q has member %d that is not a named, connected user", r.name, m)
			}
			if other, ok := inRoom[m]; ok {
				return fmt.Errorf("client %d is in %q and %q", m, other, r.name)
			}
			inRoom[m] = r.name
		}
	}
	if len(s.conns) > s.maxClients {
		return fmt.Errorf("%d connections over the limit of %d", len(s.conns), s.maxClients)
	}
	return nil
}
