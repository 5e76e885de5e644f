package engine

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"sync/atomic"
)

type fsFS = fs.FS

func subFS(f fs.FS, dir string) (fs.FS, error) {
	if _, err := fs.Stat(f, dir); err != nil {
		return nil, err
	}
	return fs.Sub(f, dir)
}

// parseTargetURL checks a target URL: absolute http(s) with a host.
func parseTargetURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	return u, nil
}

// lbState spreads requests over a LoadBalancer's servers.
type lbState struct{ n atomic.Uint64 }

// pick chooses a server: RoundRobin (default) cycles over the non-fallback
// servers, Weighted cycles in proportion to their weights,
// LeastConnections (which Envoy's cluster would do better) picks at
// random. Fallback servers are used only when no other server exists.
func (s *lbState) pick(t *targetEP) *lbServer {
	var primary []*lbServer
	for i := range t.servers {
		if !t.servers[i].fallback {
			primary = append(primary, &t.servers[i])
		}
	}
	if len(primary) == 0 {
		if len(t.servers) == 0 {
			return nil
		}
		return &t.servers[0]
	}
	switch t.algorithm {
	case "Weighted":
		total := 0
		for _, sv := range primary {
			total += sv.weight
		}
		k := int(s.n.Add(1)-1) % total
		for _, sv := range primary {
			if k < sv.weight {
				return sv
			}
			k -= sv.weight
		}
	case "LeastConnections":
		return primary[rand.IntN(len(primary))]
	}
	return primary[int(s.n.Add(1)-1)%len(primary)]
}
