package model

import (
	"fmt"
	"slices"

	"roomchat.dev/roomchat/spec"
)

// Check returns an error if s breaks an invariant that PROTOCOL.md implies:
// names are valid and unique (NAME-1, NAME-4), each user is in at most one
// room (STATE-1), or at most MaxRoomsPerUser if its connection enabled
// rooms (MULTI-2), a user's rooms and each room's members agree, a room
// exists exactly while it has members (JOIN-2, LEAVE-3), members are
// connected and named, room names are valid and unique, and history is
// bounded (JOIN-6). Of section 13: a connection
// enabled only what the server offers (CAPS-2) and only in NEW, before
// its name; account names are valid and unique and their passwords of an
// allowed length (ACCT-1); a connection holds an account's name exactly
// when LOGIN or REGISTER gave it (ACCT-3); IDs only grow, and times never
// go back along them (HIST-1), in the stored messages and in each room's
// history alike; nothing is stored by a server that does not offer
// history, and a server that does store every message (HIST-4).
func (s State) Check() error {
	names := map[string]bool{}
	for _, c := range s.conns {
		if c.ext&^s.offer != 0 {
			return fmt.Errorf("client %d enabled %v, which the server does not offer", c.id, (c.ext &^ s.offer).Names())
		}
		if c.name == "" {
			if c.account || len(c.rooms) > 0 {
				return fmt.Errorf("client %d in NEW holds an account (%v) or rooms %q", c.id, c.account, c.rooms)
			}
			continue
		}
		if most := s.roomsAllowed(c); len(c.rooms) > most {
			return fmt.Errorf("client %d is in %d rooms %q, at most %d allowed", c.id, len(c.rooms), c.rooms, most)
		}
		if !spec.ValidUsername(c.name) {
			return fmt.Errorf("client %d has invalid name %q", c.id, c.name)
		}
		if names[spec.Fold(c.name)] {
			return fmt.Errorf("name %q is held twice", c.name)
		}
		names[spec.Fold(c.name)] = true
		if a := s.accountIndex(c.name); c.account != (a >= 0) {
			return fmt.Errorf("client %d holds %q; it is an account's: %v; LOGIN or REGISTER gave it: %v", c.id, c.name, a >= 0, c.account)
		} else if a >= 0 && s.accounts[a].name != c.name {
			return fmt.Errorf("client %d holds %q, spelled %q when it was registered", c.id, c.name, s.accounts[a].name)
		}
	}
	memberships := 0
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
		if err := s.checkMessages(r.history, r.name); err != nil {
			return fmt.Errorf("room %q history: %v", r.name, err)
		}
		for i, m := range r.members {
			if s.Name(m) == "" {
				return fmt.Errorf("room %q has member %d that is not a named, connected user", r.name, m)
			}
			if slices.Contains(r.members[:i], m) {
				return fmt.Errorf("client %d is twice a member of %q", m, r.name)
			}
			if !slices.Contains(s.conns[s.connIndex(m)].rooms, r.name) {
				return fmt.Errorf("client %d is a member of %q, which is not among its rooms %q", m, r.name, s.RoomsOf(m))
			}
			memberships++
		}
	}
	// Every room a user is in has it as a member, once: with the loop
	// above, the two sides agree.
	for _, c := range s.conns {
		for i, name := range c.rooms {
			if slices.Contains(c.rooms[:i], name) {
				return fmt.Errorf("client %d is in %q twice", c.id, name)
			}
			memberships--
		}
	}
	if memberships != 0 {
		return fmt.Errorf("rooms' members and users' rooms disagree by %d", memberships)
	}
	if len(s.conns) > s.maxClients {
		return fmt.Errorf("%d connections over the limit of %d", len(s.conns), s.maxClients)
	}
	accounts := map[string]bool{}
	for _, a := range s.accounts {
		if !spec.ValidUsername(a.name) || accounts[spec.Fold(a.name)] {
			return fmt.Errorf("account %q is invalid or duplicated", a.name)
		}
		accounts[spec.Fold(a.name)] = true
		if !spec.ValidPassword(a.password) {
			return fmt.Errorf("account %q has a password of %d bytes", a.name, len(a.password))
		}
	}
	if len(s.accounts) > 0 && !s.offer.Has(spec.ExtAccounts) {
		return fmt.Errorf("%d accounts on a server that does not offer accounts", len(s.accounts))
	}
	if len(s.stored) > 0 && !s.offer.Has(spec.ExtHistory) {
		return fmt.Errorf("%d stored messages on a server that does not offer history", len(s.stored))
	}
	if err := s.checkMessages(s.stored, ""); err != nil {
		return fmt.Errorf("stored messages: %v", err)
	}
	if s.offer.Has(spec.ExtHistory) && uint64(len(s.stored)) != s.lastID {
		return fmt.Errorf("%d messages stored of the %d sent", len(s.stored), s.lastID)
	}
	if !spec.ValidMsgTime(s.now) {
		return fmt.Errorf("the clock reads %q, not a msg-time", s.now)
	}
	if s.lastID == 0 && s.lastTime != "" || s.lastID != 0 && !spec.ValidMsgTime(s.lastTime) {
		return fmt.Errorf("last message %d has time %q", s.lastID, s.lastTime)
	}
	return nil
}

// checkMessages checks messages in the order they were sent: IDs strictly
// increasing and at most the last given, times never going back and at
// most the last given (HIST-1), and well-formed fields; roomName, unless
// "", is the room they were all sent to, as spelled.
func (s State) checkMessages(msgs []Message, roomName string) error {
	for i, m := range msgs {
		switch {
		case m.ID == 0 || m.ID > s.lastID:
			return fmt.Errorf("message %d: ID beyond the last given, %d", m.ID, s.lastID)
		case i > 0 && m.ID <= msgs[i-1].ID:
			return fmt.Errorf("message %d follows message %d", m.ID, msgs[i-1].ID)
		case !spec.ValidMsgTime(m.Time) || m.Time > s.lastTime:
			return fmt.Errorf("message %d: time %q (last given %q)", m.ID, m.Time, s.lastTime)
		case i > 0 && m.Time < msgs[i-1].Time:
			return fmt.Errorf("message %d at %s is earlier than message %d at %s", m.ID, m.Time, msgs[i-1].ID, msgs[i-1].Time)
		case !spec.ValidRoom(m.Room) || roomName != "" && m.Room != roomName:
			return fmt.Errorf("message %d: room %q", m.ID, m.Room)
		case !spec.ValidUsername(m.User) || m.Text == "":
			return fmt.Errorf("message %d: user %q, text %q", m.ID, m.User, m.Text)
		}
	}
	return nil
}

// roomsAllowed is how many rooms c may be in at once: one on a core
// connection (STATE-1), MaxRoomsPerUser on one that enabled rooms
// (MULTI-2).
func (s State) roomsAllowed(c conn) int {
	if c.ext.Has(spec.ExtRooms) {
		return s.maxRooms
	}
	return 1
}
