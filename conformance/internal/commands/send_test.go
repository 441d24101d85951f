package commands

import "testing"

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
