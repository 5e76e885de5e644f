package engine

import (
	"errors"

	"github.com/flowproc/flowproc/flowengine/store"
)

// ErrNoProducts is returned by Products when the deployment names no
// products directory.
var ErrNoProducts = errors.New("no developer/app/product store: set products: in deployment.yaml")

// State is the project's state stores (counters, rate limits, KV maps,
// caches, tokens): memory, or Redis shared by replicas.
func (c *Compiler) State() *store.Stores { return c.Project.opts.State }

// State is the run's state stores.
func (r *Run) State() *store.Stores { return r.p.opts.State }

// Products is the developer/app/API product store of the deployment.
func (r *Run) Products() (store.Products, error) {
	if r.p.products == nil {
		return nil, ErrNoProducts
	}
	return r.p.products, nil
}

// ProxyName is the API proxy's name (apiproxy.name), for scopes and
// product checks.
func (r *Run) ProxyName() string { return r.p.bundleName }
