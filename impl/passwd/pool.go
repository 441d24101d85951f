package passwd

import "sync"

// Result is the outcome of one job of a [Pool].
type Result struct {
	// Token is the token given to TryHash or TryVerify.
	Token uint64
	// Hash is the PHC string made by a TryHash job.
	Hash string
	// OK reports, for a TryVerify job, whether the password matched.
	OK bool
	// Err is why the job failed: invalid Params for TryHash, a malformed
	// PHC string for TryVerify.
	Err error
}

// job is one queued TryHash or TryVerify.
type job struct {
	verify   bool
	password string
	params   Params // hash
	phc      string // verify
	token    uint64
}

// run does the job.
func (j job) run() Result {
	r := Result{Token: j.token}
	if j.verify {
		r.OK, r.Err = Verify(j.phc, j.password)
	} else {
		r.Hash, r.Err = Hash(j.password, j.params)
	}
	return r
}

// Pool hashes and verifies passwords on a fixed number of goroutines, so
// that the server's loop never waits for argon2id. The loop submits jobs
// with the non-blocking Try methods and receives each [Result] on a channel
// it selects on; results come in the order jobs finish, which with more
// than one worker need not be the order of submission.
//
// The workers bound both CPU and memory: at most workers jobs run at once,
// and a job takes the Memory of its Params (for TryVerify, those of the
// stored hash, at most [MaxMemory]), so the pool uses at most workers ×
// Memory KiB at a time beyond its queue — about 19 MiB per worker with
// [Default].
type Pool struct {
	done chan<- Result // workers -> the loop
	stop chan struct{} // closed by Close
	wg   sync.WaitGroup

	mu     sync.RWMutex // Try methods (read) against Close (write)
	jobs   chan job     // Try methods -> workers; closed by Close, under mu
	closed bool         // under mu
}

// NewPool starts workers goroutines (at least one) and returns a Pool that
// queues at most capacity jobs beyond those being worked on; with capacity
// 0 a job is taken only if a worker is free. Results are sent on done.
//
// Sending on done blocks a worker, not the loop: while the loop is not
// receiving, jobs pile up in the queue until the Try methods report it full.
func NewPool(workers, capacity int, done chan<- Result) *Pool {
	p := &Pool{
		done: done,
		stop: make(chan struct{}),
		jobs: make(chan job, max(capacity, 0)),
	}
	for range max(workers, 1) {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// TryHash queues the hashing of password with params; the Result carries
// token and the PHC string. It never blocks: it reports false, and queues
// nothing, if the queue is full or the Pool is closed.
func (p *Pool) TryHash(password string, params Params, token uint64) bool {
	return p.try(job{password: password, params: params, token: token})
}

// TryVerify queues the verification of password against the PHC string
// phc; the Result carries token and whether it matched. It never blocks: it
// reports false, and queues nothing, if the queue is full or the Pool is
// closed.
func (p *Pool) TryVerify(phc, password string, token uint64) bool {
	return p.try(job{verify: true, phc: phc, password: password, token: token})
}

func (p *Pool) try(j job) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return false
	}
	select {
	case p.jobs <- j:
		return true
	default:
		return false
	}
}

// Close stops accepting jobs, lets the workers finish the jobs queued, and
// returns when they have stopped. It does not close done.
//
// Once Close has been called the workers no longer wait for the reader of
// done: a Result is delivered only if done has room or a receiver is
// waiting, so Close may be called from the goroutine that reads done. Close
// may be called more than once.
func (p *Pool) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
		close(p.stop)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// work is one worker goroutine.
func (p *Pool) work() {
	defer p.wg.Done()
	for j := range p.jobs {
		r := j.run()
		select {
		case p.done <- r:
			continue
		case <-p.stop:
		}
		select {
		case p.done <- r:
		default:
		}
	}
}
