package store

import (
	"fmt"
	"math"

	"roomchat.dev/roomchat/spec"
)

// opKind says what an op does.
type opKind uint8

const (
	opAppend opKind = iota + 1 // insert msg
	opPut                      // insert or replace acct
	opDelete                   // delete the account name
)

// op is one change to the database. [DB.Apply] turns a Batch into ops and
// the [Writer] queues them; both commit a slice of ops in order, in one
// transaction.
type op struct {
	kind  opKind
	msg   Message // opAppend
	acct  Account // opPut
	name  string  // opDelete
	token uint64  // the Writer's caller's token; unused by commit
}

// Apply commits b in one transaction: its messages, then its Put, then its
// Delete. If any of them fails, none is applied.
func (db *DB) Apply(b Batch) error {
	ops := make([]op, 0, len(b.Messages)+len(b.Put)+len(b.Delete))
	for _, m := range b.Messages {
		ops = append(ops, op{kind: opAppend, msg: m})
	}
	for _, a := range b.Put {
		ops = append(ops, op{kind: opPut, acct: a})
	}
	for _, n := range b.Delete {
		ops = append(ops, op{kind: opDelete, name: n})
	}
	if err := db.commit(ops); err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	return nil
}

// commit applies ops in order in one transaction.
//
// It does not record the last message ID and time in the meta table: as
// long as no message is deleted they are those of the stored messages, and
// a trim records them before it deletes any (trim.go). That keeps a commit
// to the pages of the messages table and its indexes.
func (db *DB) commit(ops []op) error {
	db.write.Lock()
	defer db.write.Unlock()
	err := db.withConn(func(s *stmts) error { return s.commit(ops) })
	if err != nil {
		return err
	}
	if len(db.counts) > 0 {
		for _, o := range ops {
			if o.kind == opAppend {
				if room := spec.Fold(o.msg.Room); db.counts[room] > 0 {
					db.counts[room]++
				}
			}
		}
	}
	return nil
}

// commit runs ops in one transaction on s's connection: all of them or, if
// one fails, none.
func (s *stmts) commit(ops []op) (err error) {
	if _, err := s.exec(stmtBegin); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// A failed COMMIT may have ended the transaction already;
			// then ROLLBACK fails, and that changes nothing.
			s.exec(stmtRollback)
		}
	}()
	for _, o := range ops {
		switch o.kind {
		case opAppend:
			m := o.msg
			id, ok := sqlID(m.ID)
			if !ok || id == 0 {
				return fmt.Errorf("message ID %d out of range", m.ID)
			}
			if _, err := s.exec(stmtInsert, id, m.Time.UnixMilli(), spec.Fold(m.Room), m.Room, m.User, m.Text); err != nil {
				return fmt.Errorf("append message %d: %w", m.ID, err)
			}
		case opPut:
			a := o.acct
			if _, err := s.exec(stmtPut, spec.Fold(a.Name), a.Name, a.Hash); err != nil {
				return fmt.Errorf("put account %q: %w", a.Name, err)
			}
		case opDelete:
			if _, err := s.exec(stmtDelete, spec.Fold(o.name)); err != nil {
				return fmt.Errorf("delete account %q: %w", o.name, err)
			}
		}
	}
	_, err = s.exec(stmtCommit)
	return err
}

// sqlID converts a message ID to a SQLite integer; ok is false for an ID
// that does not fit.
func sqlID(id uint64) (v int64, ok bool) {
	if id > math.MaxInt64 {
		return 0, false
	}
	return int64(id), true
}
