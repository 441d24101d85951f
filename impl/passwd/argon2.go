package passwd

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are the cost parameters of argon2id.
type Params struct {
	// Memory is the memory used by one hash, in KiB (1024 bytes).
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the number of lanes computed in parallel; it is part of
	// the hash, so a hash made with p lanes is verified with p lanes.
	Threads uint8
}

// Default is OWASP's recommended minimum for argon2id (Password Storage
// Cheat Sheet): 19 MiB of memory, 2 passes, 1 lane. It takes some tens of
// milliseconds of one core per hash.
var Default = Params{Memory: 19456, Time: 2, Threads: 1}

// Cheap is for tests only: it makes hashing nearly free, and so gives no
// protection to a stored hash.
var Cheap = Params{Memory: 64, Time: 1, Threads: 1}

// The limits on parameters, beyond which a stored hash is refused rather
// than computed: a corrupt or hostile hash string must not make Verify
// allocate gigabytes or spin for minutes.
const (
	MaxMemory = 1 << 20 // KiB: 1 GiB
	MaxTime   = 100
)

// Sizes of what Hash makes, and the range ParsePHC accepts.
const (
	saltLen        = 16
	keyLen         = 32
	minSalt        = 8
	maxSalt        = 64
	minKey, maxKey = 16, 64
)

// The errors of this package; test for them with errors.Is.
var (
	// ErrMalformed means a string is not a PHC string of argon2id
	// version 19 as Hash writes them.
	ErrMalformed = errors.New("malformed argon2id PHC string")
	// ErrParams means parameters outside what argon2id allows or what
	// this package accepts (MaxMemory, MaxTime).
	ErrParams = errors.New("argon2id parameters out of range")
)

// Validate reports whether p can be used: at least one lane, at least 8 KiB
// of memory per lane, at least one pass, and within MaxMemory and MaxTime.
func (p Params) Validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("%w: p=%d, want at least 1", ErrParams, p.Threads)
	case p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("%w: m=%d, want at least 8 KiB per lane (%d)", ErrParams, p.Memory, 8*uint32(p.Threads))
	case p.Memory > MaxMemory:
		return fmt.Errorf("%w: m=%d, want at most %d", ErrParams, p.Memory, MaxMemory)
	case p.Time < 1 || p.Time > MaxTime:
		return fmt.Errorf("%w: t=%d, want 1 to %d", ErrParams, p.Time, MaxTime)
	}
	return nil
}

// Hash returns the PHC string of password hashed with p and a new random
// 16-byte salt; the key is 32 bytes. It fails only if p is not valid.
func Hash(password string, p Params) (string, error) {
	if err := p.Validate(); err != nil {
		return "", fmt.Errorf("passwd: hash: %w", err)
	}
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails; it crashes the program instead
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return PHC{Params: p, Salt: salt, Key: key}.String(), nil
}

// Verify reports whether password is the one hashed in phc, using the
// parameters, salt and key length of phc. It compares in constant time. The
// error is for a phc that cannot be parsed or has parameters out of range;
// a wrong password is (false, nil).
func Verify(phc, password string) (bool, error) {
	h, err := ParsePHC(phc)
	if err != nil {
		return false, fmt.Errorf("passwd: verify: %w", err)
	}
	key := argon2.IDKey([]byte(password), h.Salt, h.Params.Time, h.Params.Memory, h.Params.Threads, uint32(len(h.Key)))
	return subtle.ConstantTimeCompare(key, h.Key) == 1, nil
}

// dummies holds one DummyHash per Params.
var dummies sync.Map // Params -> string

// DummyHash returns a valid hash, made with p, of a random password that
// nobody knows; it is the same string for the same p for the life of the
// process. Verifying a login for a name without an account against it costs
// what verifying against a real hash with p costs, and always fails, so the
// time taken does not reveal whether the name exists. It panics if p is not
// valid.
func DummyHash(p Params) string {
	if h, ok := dummies.Load(p); ok {
		return h.(string)
	}
	h, err := Hash(rand.Text(), p)
	if err != nil {
		panic(err)
	}
	h2, _ := dummies.LoadOrStore(p, h)
	return h2.(string)
}
