package conformance

import (
	"slices"
	"testing"
)

func TestExpectationsRoundTrip(t *testing.T) {
	sc := func(name string) *Script { return &Script{Name: name} }
	e := ResultExpectations("", []Result{
		{Script: sc("b_two"), Status: NonStrict},
		{Script: sc("a_one"), Status: Pass},
		{Script: sc("model"), Status: Fail},
	})
	got, err := ParseExpectations(e.Format())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["a_one"] != Pass || got["b_two"] != NonStrict || got["model"] != Fail {
		t.Errorf("round trip: %v", got)
	}
	m := ResultExpectations("chatd", []Result{{Script: sc("a_one"), Status: Pass}})
	if got, err := ParseExpectations(m.Format()); err != nil || got["chatd a_one"] != Pass {
		t.Errorf("matrix round trip: %v, %v", got, err)
	}
	for _, bad := range []string{"a_one", "a_one MAYBE", "a b c d", "a PASS\na FAIL"} {
		if _, err := ParseExpectations([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestExpectationsCompare: every change is named, better or worse, and a
// script that appears or disappears too.
func TestExpectationsCompare(t *testing.T) {
	was := Expectations{"same": Fail, "fixed": Fail, "broke": Pass, "should": Pass, "gone": Pass}
	now := Expectations{"same": Fail, "fixed": Pass, "broke": Fail, "should": NonStrict, "new": Pass}
	var got []string
	for _, c := range was.Compare(now) {
		got = append(got, c.String())
	}
	want := []string{
		"worse: broke was PASS, now FAIL",
		"better: fixed was FAIL, now PASS",
		"gone: gone was PASS, and did not run",
		"new: new is PASS (not in the expectations)",
		"worse: should was PASS, now NON-STRICT",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%q\nwant\n%q", got, want)
	}
	if len(was.Compare(was)) != 0 {
		t.Errorf("no change expected")
	}
}
