package impl

import (
	"context"
	"log/slog"

	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/impl/store"
	"roomchat.dev/roomchat/spec"
)

// The loop's backends: the password pool and the store's Writer and Reader
// (async.go). The loop knows each by the small interface below, which the
// tests can fake, and hears of each through a channel it selects on.

// hasher is what the loop does with a passwd.Pool.
type hasher interface {
	TryHash(pw string, p passwd.Params, token uint64) bool
	TryVerify(phc, pw string, token uint64) bool
	Close()
}

// storeWriter is what the loop does with a store.Writer.
type storeWriter interface {
	TryAppend(m store.Message, token uint64) bool
	TryPut(a store.Account, token uint64) bool
	Close() error
}

// storeReader is what the loop does with a store.Reader.
type storeReader interface {
	TryFetch(q store.Query, token uint64) bool
	Close()
}

var (
	_ hasher      = (*passwd.Pool)(nil)
	_ storeWriter = (*store.Writer)(nil)
	_ storeReader = (*store.Reader)(nil)
)

// The sizes of the backends' queues. A line that finds its queue full
// waits for room, with its client's reader paused (async.go).
const (
	// hashWorkers is how many passwords are hashed at once: each argon2id
	// hash with passwd.Default takes its Memory (19 MiB), so the pool adds
	// at most hashWorkers × 19 MiB = 38 MiB to the bound of PROTOCOL.md
	// 8.5 (ACCT-6).
	hashWorkers = 2
	// hashQueue is how many passwords wait for a worker, at most.
	hashQueue = 16
	// writeQueue is how many operations wait for the Writer's next commit
	// besides the batch being committed.
	writeQueueLen = 4096
	// readQueueLen is how many fetches wait for the Reader.
	readQueueLen = 256
)

// Open returns a server with the given limits and extensions, ready to
// Serve. With cfg.DB it opens the database, creating it if it does not
// exist, and loads its accounts and its last message ID before anything
// else runs; if the file cannot be used (not a database, damaged, of
// another schema, not writable, held by another process) Open fails with
// an error that names it, and never starts afresh. Shutdown closes it.
func Open(cfg Config) (*Server, error) {
	s := newServer(cfg)
	if err := s.openCluster(); err != nil {
		return nil, err
	}
	if err := s.openBackends(); err != nil {
		s.closeCluster()
		return nil, err
	}
	return s, nil
}

// openBackends sets up what the offered extensions need: the password
// pool, the database or the history kept in memory.
func (s *Server) openBackends() error {
	l, cfg := s.loop, &s.cfg
	if cfg.Offer.Has(spec.ExtAccounts) {
		l.accounts = make(map[string]*account)
	}
	if cfg.DB == "" {
		if cfg.Offer.Has(spec.ExtHistory) {
			l.stored = newMemStore(cfg.HistoryKeep, cfg.HistoryMaxAge)
		}
		s.startPool()
		return nil
	}
	db, err := store.Open(cfg.DB)
	if err != nil {
		return err
	}
	snap, err := db.Load()
	if err != nil {
		db.Close()
		return err
	}
	s.db = db
	if l.accounts != nil {
		for _, a := range snap.Accounts {
			l.accounts[spec.Fold(a.Name)] = &account{name: a.Name, hash: a.Hash}
		}
	}
	l.lastID, l.lastStored = snap.LastID, snap.LastID
	l.lastTime = snap.LastTime
	keep := store.Retention{Keep: cfg.HistoryKeep, MaxAge: cfg.HistoryMaxAge}
	if cfg.Offer != 0 {
		l.committedIn = make(chan store.Committed, 16)
		l.writer = store.NewWriter(db, writeQueueLen, keep, l.committedIn)
	}
	if cfg.Offer.Has(spec.ExtHistory) {
		l.fetchedIn = make(chan store.Fetched, 16)
		l.reader = store.NewReader(db, readQueueLen, keep, l.fetchedIn)
	}
	s.startPool()
	s.log.Info("database open", "db", cfg.DB, "accounts", len(snap.Accounts), "last-id", snap.LastID)
	return nil
}

// startPool starts the password pool if accounts are offered, and makes
// the dummy hash that LOGINs of unknown names are verified against: one
// hash's time, once per process and Params.
func (s *Server) startPool() {
	l := s.loop
	if l.accounts == nil {
		return
	}
	l.dummyHash = passwd.DummyHash(s.cfg.Argon2)
	l.hashedIn = make(chan passwd.Result, hashQueue+hashWorkers)
	l.pool = passwd.NewPool(hashWorkers, hashQueue, l.hashedIn)
}

// closeBackends closes the pool, the Writer (which commits what is queued
// first), the Reader and the database, once, after the loop has stopped:
// lines still waiting for them are abandoned. Results that still arrive
// are drained meanwhile, so that no backend waits for the loop.
func (s *Server) closeBackends() {
	s.backendsOnce.Do(func() {
		l := s.loop
		stop := make(chan struct{})
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for {
				select {
				case <-l.hashedIn:
				case <-l.fetchedIn:
				case b := <-l.committedIn:
					if b.Err != nil {
						s.log.Error("store write failed", "err", b.Err, "operations", len(b.Tokens))
					}
				case <-stop:
					return
				}
			}
		}()
		s.closeCluster()
		if l.pool != nil {
			l.pool.Close()
		}
		if l.writer != nil {
			if err := l.writer.Close(); err != nil {
				s.log.Error("store write failed", "err", err)
			}
		}
		if l.reader != nil {
			l.reader.Close()
		}
		close(stop)
		<-drained
		if s.db != nil {
			if err := s.db.Close(); err != nil {
				s.log.Error("closing the database failed", "db", s.cfg.DB, "err", err)
			} else {
				s.log.LogAttrs(context.Background(), slog.LevelInfo, "database closed", slog.String("db", s.cfg.DB))
			}
		}
	})
}
