package passwd

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// PHC is a parsed argon2id PHC string.
type PHC struct {
	Params Params
	Salt   []byte
	Key    []byte
}

// b64 is the encoding of salt and key: standard base64 without padding.
var b64 = base64.RawStdEncoding

// String returns h as a PHC string:
// $argon2id$v=19$m=<Memory>,t=<Time>,p=<Threads>$<salt>$<key>.
func (h PHC) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		19, h.Params.Memory, h.Params.Time, h.Params.Threads,
		b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// ParsePHC parses a PHC string of argon2id, version 19 (0x13), in exactly
// the form String writes: parameters m, t and p in that order, decimal
// without leading zeros, salt and key in canonical unpadded base64. So a
// string that parses is the String of what it parses to. Parameters must
// pass Params.Validate, the salt must be 8 to 64 bytes and the key 16 to 64.
//
// Errors wrap ErrMalformed or ErrParams. They do not quote the salt or the
// key.
func ParsePHC(s string) (PHC, error) {
	var h PHC
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return h, fmt.Errorf("%w: %d fields separated by '$', want 5", ErrMalformed, len(f)-1)
	}
	if f[1] != "argon2id" {
		return h, fmt.Errorf("%w: algorithm %q, want argon2id", ErrMalformed, f[1])
	}
	if f[2] != "v=19" {
		return h, fmt.Errorf("%w: version %q, want v=19", ErrMalformed, f[2])
	}
	m, t, p, err := parseParams(f[3])
	if err != nil {
		return h, err
	}
	h.Params = Params{Memory: m, Time: t, Threads: p}
	if err := h.Params.Validate(); err != nil {
		return h, err
	}
	if h.Salt, err = decode(f[4], "salt", minSalt, maxSalt); err != nil {
		return h, err
	}
	if h.Key, err = decode(f[5], "key", minKey, maxKey); err != nil {
		return h, err
	}
	return h, nil
}

// parseParams parses "m=<uint32>,t=<uint32>,p=<uint8>".
func parseParams(s string) (m, t uint32, p uint8, err error) {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return 0, 0, 0, fmt.Errorf("%w: parameters %q, want m=,t=,p=", ErrMalformed, s)
	}
	var v [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(f[i], name)
		if !ok {
			return 0, 0, 0, fmt.Errorf("%w: parameters %q, want m=,t=,p=", ErrMalformed, s)
		}
		bits := 32
		if name == "p=" {
			bits = 8
		}
		if v[i], err = parseDecimal(digits, bits); err != nil {
			return 0, 0, 0, fmt.Errorf("%w: parameter %q: %v", ErrMalformed, f[i], err)
		}
	}
	return uint32(v[0]), uint32(v[1]), uint8(v[2]), nil
}

// parseDecimal parses an unsigned decimal of the given size in canonical
// form: digits only, no leading zero unless it is "0".
func parseDecimal(s string, bits int) (uint64, error) {
	if s == "" || s[0] == '0' && len(s) > 1 {
		return 0, fmt.Errorf("not a canonical decimal")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a canonical decimal")
		}
	}
	return strconv.ParseUint(s, 10, bits)
}

// decode decodes canonical unpadded base64 of min to max bytes.
func decode(s, what string, min, max int) ([]byte, error) {
	if len(s) > b64.EncodedLen(max) {
		return nil, fmt.Errorf("%w: %s longer than %d bytes", ErrMalformed, what, max)
	}
	b, err := b64.Strict().DecodeString(s)
	if err != nil || b64.EncodeToString(b) != s { // DecodeString skips newlines
		return nil, fmt.Errorf("%w: %s is not canonical unpadded base64", ErrMalformed, what)
	}
	if len(b) < min {
		return nil, fmt.Errorf("%w: %s of %d bytes, want %d to %d", ErrMalformed, what, len(b), min, max)
	}
	return b, nil
}
