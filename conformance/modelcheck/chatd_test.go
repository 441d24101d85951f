package modelcheck

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance"
)

// TestExternalServer checks a server run as a process, with the extensions
// of section 13, when CHAT_SERVER holds its command line as chatconform
// -exec takes it ({addr} is where it listens, {dir} a directory its
// restarts keep), for instance
//
//	CHAT_SERVER='chatd -addr {addr} -db {dir}/chat.db -argon2-memory 64 -argon2-time 1'
//
// CHAT_SERVER_TAGS lists the tags it implements (default shutdown, caps,
// accounts, history, and durable if the command line holds {dir}); CHAT_CHECKS the
// sequences (300). One server serves every sequence, as a shared server
// does, and is restarted by the durable ones.
func TestExternalServer(t *testing.T) {
	command := os.Getenv("CHAT_SERVER")
	if command == "" {
		t.Skip("CHAT_SERVER is not set")
	}
	tags := []string{"shutdown", "caps", "accounts", "history"}
	if strings.Contains(command, "{dir}") {
		tags = append(tags, "durable")
	}
	if s := os.Getenv("CHAT_SERVER_TAGS"); s != "" {
		tags = strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	}
	checks := 300
	if s := os.Getenv("CHAT_CHECKS"); s != "" {
		checks, _ = strconv.Atoi(s)
	}
	start, err := conformance.ExecServer(command)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := start(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	target := Target{Addr: srv.Addr()}
	var restarts int
	var restartTime time.Duration
	if r, ok := srv.(conformance.Restarter); ok {
		target.Restart = func(string) (string, error) {
			begin := time.Now()
			err := r.Restart(false)
			restarts++
			restartTime += time.Since(begin)
			return srv.Addr(), err
		}
	}
	ext, durable := Extensions(tags)
	opts := Options{Checks: checks, Ext: ext, Durable: durable, Seed: 1}
	begin := time.Now()
	res, err := Run(target, opts)
	t.Logf("%d sequences, %d steps in %v, %d restarts of %v in all (%s); offered %s, durable %v",
		res.Sequences, res.Coverage.Steps(), time.Since(begin).Round(time.Millisecond), restarts, restartTime.Round(time.Millisecond),
		res.Coverage.Summary(), strings.Join(ext.Names(), ","), durable)
	if testing.Verbose() {
		t.Logf("%s", res.Coverage)
	}
	if err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, srv.Log())
	}
}
