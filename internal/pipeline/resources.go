package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

// resolveResources finds the resources the configuration names without an
// ID (D1 by database_name; KV by its title `<worker>-<binding>`, which only a
// run with create-resources gave it) and checks that R2 buckets exist. It
// makes read requests only: the resolved bindings join st.project.bindings,
// and what is missing is left in st.project.resources for createResources.
// Missing resources without `create-resources` fail the run, before any write.
func resolveResources(ctx context.Context, api API, cfg *inputs.Config, st *settings, log Logger) error {
	var (
		missing []wrangler.Resource
		added   []bindings.Binding
	)
	for _, r := range st.project.resources {
		switch r.Kind {
		case wrangler.ResourceD1:
			db, err := api.FindD1Database(ctx, d1Name(st, r))
			if err != nil {
				return err
			}
			if db == nil {
				missing = append(missing, r)
				continue
			}
			b, err := bindings.New(r.Binding, "d1", map[string]any{"database_id": db.UUID})
			if err != nil {
				return err
			}
			added = append(added, b)
			log.Infof("D1 database %q of binding %s: %s", d1Name(st, r), r.Binding, db.UUID)
		case wrangler.ResourceKV:
			ns, err := api.FindKVNamespace(ctx, kvTitle(st, r))
			if err != nil {
				return err
			}
			if ns == nil {
				missing = append(missing, r)
				continue
			}
			b, err := bindings.New(r.Binding, "kv_namespace", map[string]any{"namespace_id": ns.ID})
			if err != nil {
				return err
			}
			added = append(added, b)
			log.Infof("KV namespace %q of binding %s: %s", ns.Title, r.Binding, ns.ID)
		case wrangler.ResourceR2:
			ok, err := api.R2BucketExists(ctx, r.Name, r.Jurisdiction)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, r)
			}
		}
	}
	if len(missing) > 0 && !cfg.Project.CreateResources {
		var errs []error
		for _, r := range missing {
			errs = append(errs, fmt.Errorf("%s: %s: %s", filepath.Base(st.configPath), r.Where, describeMissing(st, r)))
		}
		return &inputs.Error{Input: "create-resources", Err: fmt.Errorf("%w; create them (wrangler d1/kv/r2 create, Terraform) and put their IDs in the configuration, or set `create-resources: true` to let the action create them", errors.Join(errs...))}
	}
	st.project.bindings = withBindings(st.project.bindings, added)
	st.project.resources = missing
	return nil
}

// withBindings returns bs and added sorted by name.
func withBindings(bs, added []bindings.Binding) []bindings.Binding {
	all := append(slices.Clone(bs), added...)
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all
}

// createResources creates what resolveResources found missing (with
// `create-resources`), and binds it.
func createResources(ctx context.Context, api API, st *settings, log Logger) error {
	var added []bindings.Binding
	for _, r := range st.project.resources {
		var b bindings.Binding
		var err error
		switch r.Kind {
		case wrangler.ResourceD1:
			db, cerr := api.CreateD1Database(ctx, d1Name(st, r))
			if cerr != nil {
				return cerr
			}
			b, err = bindings.New(r.Binding, "d1", map[string]any{"database_id": db.UUID})
		case wrangler.ResourceKV:
			ns, cerr := api.CreateKVNamespace(ctx, kvTitle(st, r))
			if cerr != nil {
				return cerr
			}
			b, err = bindings.New(r.Binding, "kv_namespace", map[string]any{"namespace_id": ns.ID})
		case wrangler.ResourceR2:
			if cerr := api.CreateR2Bucket(ctx, r.Name, r.Jurisdiction); cerr != nil {
				return cerr
			}
			log.Infof("Created %s", describeResource(st, r))
			continue
		}
		if err != nil {
			return err
		}
		added = append(added, b)
		log.Infof("Created %s", describeResource(st, r))
	}
	st.project.bindings = withBindings(st.project.bindings, added)
	st.project.resources = nil
	return nil
}

// kvTitle is the title of the KV namespace for a binding without an ID: the
// one wrangler gives it, so that a namespace wrangler provisioned is found.
func kvTitle(st *settings, r wrangler.Resource) string {
	return wrangler.DefaultResourceName(st.worker, r.Binding)
}

// d1Name is the D1 database's name: database_name, else wrangler's default.
func d1Name(st *settings, r wrangler.Resource) string {
	if r.Name != "" {
		return r.Name
	}
	return wrangler.DefaultResourceName(st.worker, r.Binding)
}

func describeResource(st *settings, r wrangler.Resource) string {
	switch r.Kind {
	case wrangler.ResourceD1:
		return fmt.Sprintf("D1 database %q (binding %s)", d1Name(st, r), r.Binding)
	case wrangler.ResourceKV:
		return fmt.Sprintf("KV namespace %q (binding %s)", kvTitle(st, r), r.Binding)
	}
	if r.Jurisdiction != "" {
		return fmt.Sprintf("R2 bucket %q in jurisdiction %s (binding %s)", r.Name, r.Jurisdiction, r.Binding)
	}
	return fmt.Sprintf("R2 bucket %q (binding %s)", r.Name, r.Binding)
}

func describeMissing(st *settings, r wrangler.Resource) string {
	switch r.Kind {
	case wrangler.ResourceKV:
		return fmt.Sprintf("binding %s has no `id`, and no KV namespace titled %q exists", r.Binding, kvTitle(st, r))
	case wrangler.ResourceD1:
		return fmt.Sprintf("binding %s has no `database_id`, and no D1 database is named %q", r.Binding, d1Name(st, r))
	}
	return fmt.Sprintf("binding %s: %s does not exist", r.Binding, describeResource(st, r))
}
