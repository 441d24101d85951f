package commands

import (
	"strings"
	"testing"
)

func TestUnquoteRaw(t *testing.T) {
	for in, want := range map[string]string{
		`a\x{3}b\r\n`:  "axxxb\r\n",
		`\xff\x00`:     "\xff\x00",
		`\\x{3}`:       `\x{3}`,
		`é\t\u00a0`:    "é\t\u00a0",
		`\x{0}`:        "",
		`say \"hi\"\n`: "say \"hi\"\n",
	} {
		got, err := unquoteRaw(in)
		if err != nil || string(got) != want {
			t.Errorf("unquoteRaw(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := unquoteRaw(`"`); err == nil {
		t.Errorf("unquoteRaw of a bare quote: no error")
	}
}

// FuzzUnquoteRaw: any argument of sendraw decodes or is refused, never a
// panic or a huge allocation; what decodes from plain text is that text.
func FuzzUnquoteRaw(f *testing.F) {
	f.Add(`USERNAME a\r\nJOIN #r\n`)
	f.Add(`\x{600}\xff\u00e9\\\"`)
	f.Add(`\x{99999999999999}`)
	f.Add(`\q`)
	f.Fuzz(func(t *testing.T, s string) {
		data, err := unquoteRaw(s)
		if err != nil {
			return
		}
		if len(data) > len(s)+maxRawRepeat {
			t.Fatalf("%q decoded to %d bytes", s, len(data))
		}
		if !strings.ContainsAny(s, `\"`) && string(data) != s {
			t.Fatalf("plain %q decoded to %q", s, data)
		}
	})
}
