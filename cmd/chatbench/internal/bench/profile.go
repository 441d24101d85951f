package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profiles fetches pprof profiles from a server's -pprof listener
// (net/http/pprof, as chatd -pprof serves it) during one measured phase: a
// CPU profile over Config.ProfileSeconds from the start of the phase, and
// if asked, the allocations over the same time (allocs?seconds=N, a
// delta); then, at its end, the heap, whose samples hold both the memory
// in use then and every allocation since the server started (go tool
// pprof -sample_index=alloc_space). A nil *profiles does nothing.
type profiles struct {
	dir, prefix string
	wg          sync.WaitGroup
	mu          sync.Mutex // guards the fields below
	files       []string   // written
	errs        []string   // what failed
}

// startProfiles starts fetching the profiles of srv for the phase named
// by prefix ("" for the load), with the allocations over the window if
// allocs is set, if cfg asks for profiles and srv has a pprof listener.
func startProfiles(ctx context.Context, cfg *Config, srv node, prefix string, allocs bool) *profiles {
	if cfg.Profile == "" || srv.pprof == "" {
		return nil
	}
	p := &profiles{dir: cfg.Profile, prefix: cfg.profileLabel + prefix}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		p.errs = append(p.errs, fmt.Sprintf("profile: %v", err))
		return p
	}
	secs := int(math.Ceil(cfg.ProfileSeconds.Seconds()))
	window := time.Duration(secs) * time.Second
	p.wg.Go(func() { p.fetch(ctx, srv.pprof, fmt.Sprintf("profile?seconds=%d", secs), "cpu", window) })
	if allocs {
		p.wg.Go(func() { p.fetch(ctx, srv.pprof, fmt.Sprintf("allocs?seconds=%d", secs), "allocs", window) })
	}
	return p
}

// finish waits for the CPU and allocation profiles, fetches the heap
// profile, and returns the problems met, if any.
func (p *profiles) finish(ctx context.Context, srv node) []string {
	if p == nil {
		return nil
	}
	p.wg.Wait()
	p.fetch(ctx, srv.pprof, "heap", "heap", 0)
	return p.errs
}

// written returns the files written.
func (p *profiles) written() []string {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.files
}

// fetch gets /debug/pprof/path from addr, which takes about d, into the
// file <prefix><name>.pprof.
func (p *profiles) fetch(ctx context.Context, addr, path, name string, d time.Duration) {
	err := func() error {
		ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/"+path, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return fmt.Errorf("%s: %s", resp.Status, b)
		}
		file := filepath.Join(p.dir, p.prefix+name+".pprof")
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		p.mu.Lock()
		p.files = append(p.files, file)
		p.mu.Unlock()
		return nil
	}()
	if err != nil {
		p.mu.Lock()
		p.errs = append(p.errs, fmt.Sprintf("profile %s from %s: %v", name, addr, err))
		p.mu.Unlock()
	}
}
