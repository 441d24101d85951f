package passwd

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// phcForm is what Hash writes with Cheap.
var phcForm = regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse", Cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !phcForm.MatchString(h) {
		t.Errorf("Hash = %q, not of the form %s", h, phcForm)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse", true},
		{"correct horse ", false},
		{"Correct horse", false},
		{"", false},
	} {
		ok, err := Verify(h, tc.password)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tc.password, ok, err, tc.want)
		}
	}
	h2, _ := Hash("correct horse", Cheap)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestHashDefault(t *testing.T) {
	start := time.Now()
	h, err := Hash("correct horse", Default)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one hash with Default took %v", time.Since(start))
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q", h)
	}
	if ok, err := Verify(h, "correct horse"); !ok || err != nil {
		t.Errorf("Verify = %v, %v", ok, err)
	}
}

// TestVerifyReference checks hashes made by the reference implementation
// (the argon2 command of phc-winner-argon2), with parameters other than
// ours: Verify takes the parameters, salt size and key size from the string.
func TestVerifyReference(t *testing.T) {
	for _, tc := range []struct{ phc, password string }{
		// echo -n "correct horse" | argon2 somesalt1234 -id -t 2 -k 1024 -p 2 -l 32 -e
		{"$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHQxMjM0$XzoMVFBkA1ObEyX30PVwxaMszE6IQqRlwrk7E/FFKPM", "correct horse"},
		// echo -n x | argon2 saltsaltsalt -id -t 3 -k 64 -p 1 -l 16 -e
		{"$argon2id$v=19$m=64,t=3,p=1$c2FsdHNhbHRzYWx0$QG4WH+Y7wIpz4rR27C+Urg", "x"},
	} {
		if ok, err := Verify(tc.phc, tc.password); !ok || err != nil {
			t.Errorf("Verify(%s, %q) = %v, %v", tc.phc, tc.password, ok, err)
		}
		if ok, _ := Verify(tc.phc, tc.password+"!"); ok {
			t.Errorf("Verify(%s) accepted a wrong password", tc.phc)
		}
	}
}

func TestHashBadParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{Memory: 64, Time: 1, Threads: 0},
		{Memory: 15, Time: 1, Threads: 2},
		{Memory: 64, Time: 0, Threads: 1},
		{Memory: MaxMemory + 1, Time: 1, Threads: 1},
		{Memory: 64, Time: MaxTime + 1, Threads: 1},
	} {
		if h, err := Hash("x", p); !errors.Is(err, ErrParams) {
			t.Errorf("Hash with %+v = %q, %v; want ErrParams", p, h, err)
		}
	}
}

func TestParsePHC(t *testing.T) {
	const salt, key = "c29tZXNhbHQxMjM0", "XzoMVFBkA1ObEyX30PVwxaMszE6IQqRlwrk7E/FFKPM"
	good := "$argon2id$v=19$m=1024,t=2,p=2$" + salt + "$" + key
	h, err := ParsePHC(good)
	if err != nil {
		t.Fatal(err)
	}
	if h.Params != (Params{Memory: 1024, Time: 2, Threads: 2}) || string(h.Salt) != "somesalt1234" || len(h.Key) != 32 {
		t.Errorf("ParsePHC = %+v", h)
	}
	if h.String() != good {
		t.Errorf("String = %q, want %q", h.String(), good)
	}
	for _, tc := range []struct {
		phc  string
		want error
	}{
		{"", ErrMalformed},
		{"argon2id$v=19$m=1024,t=2,p=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2i$v=19$m=1024,t=2,p=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2d$v=19$m=1024,t=2,p=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$v=16$m=1024,t=2,p=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$m=1024,t=2,p=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$v=19$t=2,m=1024,p=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$v=19$m=1024,t=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$v=19$m=1024,t=2,p=2,x=1$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$v=19$m=01024,t=2,p=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$v=19$m=+1024,t=2,p=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$v=19$m=1024,t=2,p=256$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$v=19$m=4294967296,t=2,p=2$" + salt + "$" + key, ErrMalformed},
		{"$argon2id$v=19$m=1024,t=2,p=2$" + salt + "=$" + key, ErrMalformed},
		{"$argon2id$v=19$m=1024,t=2,p=2$" + salt + "$" + key + "$", ErrMalformed},
		{"$argon2id$v=19$m=1024,t=2,p=2$" + salt + "$" + key[:20] + "\n" + key[20:], ErrMalformed},
		{"$argon2id$v=19$m=1024,t=2,p=2$" + salt + "$" + key[:len(key)-1] + "N", ErrMalformed}, // trailing bits set
		{"$argon2id$v=19$m=1024,t=2,p=2$c2FsdA$" + key, ErrMalformed},                          // 4-byte salt
		{"$argon2id$v=19$m=1024,t=2,p=2$" + salt + "$c2FsdA", ErrMalformed},                    // 4-byte key
		{"$argon2id$v=19$m=1024,t=2,p=2$" + salt + "$" + strings.Repeat("A", 1000), ErrMalformed},
		{"$argon2id$v=19$m=2097152,t=2,p=2$" + salt + "$" + key, ErrParams}, // 2 GiB
		{"$argon2id$v=19$m=1024,t=1000,p=2$" + salt + "$" + key, ErrParams},
		{"$argon2id$v=19$m=1024,t=0,p=2$" + salt + "$" + key, ErrParams},
		{"$argon2id$v=19$m=1024,t=2,p=0$" + salt + "$" + key, ErrParams},
		{"$argon2id$v=19$m=8,t=2,p=2$" + salt + "$" + key, ErrParams},
	} {
		_, err := ParsePHC(tc.phc)
		if !errors.Is(err, tc.want) {
			t.Errorf("ParsePHC(%q) = %v, want %v", tc.phc, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), salt) {
			t.Errorf("error %q quotes the salt or the key", err)
		}
		if ok, err := Verify(tc.phc, "correct horse"); ok || !errors.Is(err, tc.want) {
			t.Errorf("Verify(%q) = %v, %v", tc.phc, ok, err)
		}
	}
}

func TestDummyHash(t *testing.T) {
	d := DummyHash(Cheap)
	if d != DummyHash(Cheap) {
		t.Error("DummyHash changed")
	}
	if !phcForm.MatchString(d) {
		t.Errorf("DummyHash = %q", d)
	}
	for _, pw := range []string{"", "password", "correct horse"} {
		if ok, err := Verify(d, pw); ok || err != nil {
			t.Errorf("Verify(DummyHash, %q) = %v, %v", pw, ok, err)
		}
	}
	other := Params{Memory: 128, Time: 1, Threads: 1}
	if d2 := DummyHash(other); !strings.Contains(d2, "m=128,") {
		t.Errorf("DummyHash(%+v) = %q", other, d2)
	}
	defer func() {
		if recover() == nil {
			t.Error("DummyHash of invalid Params did not panic")
		}
	}()
	DummyHash(Params{})
}

func FuzzParsePHC(f *testing.F) {
	for _, p := range []Params{Cheap, {Memory: 1024, Time: 3, Threads: 4}} {
		h, err := Hash("seed", p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(h)
	}
	f.Add("$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHQxMjM0$XzoMVFBkA1ObEyX30PVwxaMszE6IQqRlwrk7E/FFKPM")
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$")
	f.Add("$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrParams) {
				t.Fatalf("ParsePHC(%q): error %v is neither ErrMalformed nor ErrParams", s, err)
			}
			return
		}
		if got := h.String(); got != s {
			t.Fatalf("ParsePHC(%q).String() = %q", s, got)
		}
		if err := h.Params.Validate(); err != nil {
			t.Fatalf("ParsePHC(%q) accepted %+v: %v", s, h.Params, err)
		}
	})
}

// BenchmarkVerifyDefault measures one verification with Default, the cost
// of a login; the pool's workers bound how many run at once.
func BenchmarkVerifyDefault(b *testing.B) {
	h, err := Hash("correct horse", Default)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Verify(h, "correct horse")
	}
}
