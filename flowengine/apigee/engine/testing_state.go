package engine

import (
	"io/fs"
	"log/slog"
	"testing/fstest"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// SetTestState gives a TestRun its own state stores (isolated counters
// and rate limits, e.g. store.OpenConfig with a fake clock) instead of the
// process-wide memory stores.
func (r *Run) SetTestState(s *store.Stores) { r.p.opts.State = s }

// TestPolicyIn compiles the policy named name of a bundle whose
// policies/ directory holds files (file name → XML), for policies that
// look at their neighbours (ResetQuota names a Quota; a Quota's
// UseQuotaConfigInAPIProduct names a VerifyAPIKey). Only the named policy
// is compiled; the others are just parsed.
func TestPolicyIn(files map[string]string, name string) (Policy, diag.List) {
	fsys := fstest.MapFS{}
	for f, data := range files {
		fsys["policies/"+f] = &fstest.MapFile{Data: []byte(data)}
	}
	pols, errs := bundle.LoadPolicies(fsys, "policies")
	if len(errs) > 0 {
		return nil, errs
	}
	bp := pols[name]
	if bp == nil {
		errs.Addf("policies", 0, 0, diag.APBadPolicy, "no policy named %s", name)
		return nil, errs
	}
	dep, _ := LoadDeployment("")
	proj := &Project{name: "test", bundleName: "test", dep: dep, opts: Options{Logger: slog.New(slog.DiscardHandler), State: store.MemoryStores()}}
	c := &Compiler{Bundle: &bundle.Bundle{FS: fs.FS(fsys), Policies: pols}, Deployment: dep, Project: proj, errs: &errs}
	cp := c.compilePolicy(bp)
	if cp == nil {
		return nil, errs
	}
	return cp.impl, nil
}
