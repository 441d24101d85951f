package conformance

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// separateNodes is a "cluster" whose nodes are model servers that share
// nothing: each is a chat of its own. Every script of the cluster profile
// that depends on the nodes sharing one chat must fail on it.
type separateNodes struct {
	nodes []Server
}

var _ Cluster = (*separateNodes)(nil)

// startSeparateNodes starts three separate model servers with the
// script's flags, less -node-timeout, which a single server has not.
func startSeparateNodes(flags []string) (Server, error) {
	if i := slices.Index(flags, "-node-timeout"); i >= 0 {
		flags = slices.Delete(slices.Clone(flags), i, i+2)
	}
	c := &separateNodes{}
	for range 3 {
		s, err := startModelServer(flags)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.nodes = append(c.nodes, s)
	}
	return c, nil
}

func (c *separateNodes) Addr() string { return c.nodes[0].Addr() }
func (c *separateNodes) Log() string  { return "" }

func (c *separateNodes) NodeAddrs() []string {
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, n.Addr())
	}
	return addrs
}

func (c *separateNodes) Shutdown() error {
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.Shutdown())
	}
	return errors.Join(errs...)
}

func (c *separateNodes) KillNode(n int) error { return c.nodes[n-1].Stop() }

func (c *separateNodes) StopNode(n int) error {
	if err := c.nodes[n-1].Shutdown(); err != nil {
		return err
	}
	return c.nodes[n-1].Stop()
}

func (c *separateNodes) StopLog() error  { return fmt.Errorf("%w: no log", ErrUnsupported) }
func (c *separateNodes) StartLog() error { return fmt.Errorf("%w: no log", ErrUnsupported) }

func (c *separateNodes) Stop() error {
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.Stop())
	}
	return errors.Join(errs...)
}

// TestClusterScriptsCatchSeparateNodes runs the scripts of the cluster
// profile against three servers that share nothing: each script must fail,
// except the one about limits that are each node's own, which such servers
// keep.
func TestClusterScriptsCatchSeparateNodes(t *testing.T) {
	r, err := NewRunner(Config{
		Start: startSeparateNodes, ClusterNodes: 3, Scripts: loadSuite(t), Seed: 1,
		Run: regexp.MustCompile(`^cluster_`), Timeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	mayPass := map[string]bool{"cluster_max_clients": true}
	ran := 0
	for _, sc := range r.Selected() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			res := r.RunScript(sc)
			switch {
			case res.Status == Skip && sc.StopsLog:
				// No log to stop: the runner skips it, as it should.
			case res.Status == Skip && strings.Contains(res.Reason, ErrUnsupported.Error()):
				// A limit the model server does not have.
			case res.Status == Skip:
				t.Errorf("skipped: %s", res.Reason)
			case mayPass[sc.Name]:
				if res.Status != Pass {
					t.Errorf("%v, want PASS: separate servers keep per-node limits\n%s", res.Status, Details(res))
				}
			case res.Status != Fail:
				t.Errorf("%v against nodes that share nothing, want FAIL", res.Status)
			case !strings.Contains(res.Log, "FAIL: "+sc.Name):
				t.Errorf("failed, but not in the script:\n%s", res.Log)
			}
		})
		ran++
	}
	if ran < 10 {
		t.Errorf("%d cluster scripts, want at least 10", ran)
	}
}
