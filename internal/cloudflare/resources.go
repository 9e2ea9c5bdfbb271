package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Resource lookups and creates for bindings named without an ID
// (docs/wrangler.md "Resources"). Creates follow the client's rule for
// writes: after an attempt whose outcome is unknown, the resource is looked
// up by name before anything is re-sent.

// maxResourcePages bounds the pages a name lookup reads.
const maxResourcePages = 100

// D1Database is a D1 database.
type D1Database struct {
	// UUID is the database's ID, the binding's database_id.
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// FindD1Database returns the D1 database named name, or nil, nil.
//
// API: GET /accounts/{account_id}/d1/database?name= (developers.cloudflare.com/api/resources/d1/subresources/database/methods/list/).
func (c *Client) FindD1Database(ctx context.Context, name string) (*D1Database, error) {
	for page := 1; page <= maxResourcePages; page++ {
		var dbs []D1Database
		var info resultInfo
		err := c.do(ctx, &call{
			method: http.MethodGet,
			path:   c.accountPath("d1", "database"),
			query:  url.Values{"name": {name}, "page": {strconv.Itoa(page)}, "per_page": {"100"}},
			out:    &dbs,
			info:   &info,
		})
		if err != nil {
			return nil, fmt.Errorf("failed to look up D1 database %q: %w", name, err)
		}
		for i := range dbs {
			// The name filter may match more than the exact name.
			if dbs[i].Name == name {
				return &dbs[i], nil
			}
		}
		if len(dbs) == 0 || (info.TotalPages > 0 && page >= info.TotalPages) || (info.TotalPages == 0 && len(dbs) < 100) {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("failed to look up D1 database %q: stopped after %d pages", name, maxResourcePages)
}

// CreateD1Database creates a D1 database.
//
// API: POST /accounts/{account_id}/d1/database {name}.
func (c *Client) CreateD1Database(ctx context.Context, name string) (*D1Database, error) {
	body, _ := json.Marshal(map[string]string{"name": name})
	var db D1Database
	err := c.do(ctx, &call{
		method: http.MethodPost,
		path:   c.accountPath("d1", "database"),
		body:   jsonBody(body),
		out:    &db,
		write:  true,
		check: func(ctx context.Context) (bool, error) {
			got, err := c.FindD1Database(ctx, name)
			if err != nil || got == nil {
				return false, err
			}
			db = *got
			return true, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create D1 database %q: %w", name, err)
	}
	return &db, nil
}

// KVNamespace is a Workers KV namespace.
type KVNamespace struct {
	// ID is the namespace's ID, the binding's namespace_id.
	ID    string `json:"id"`
	Title string `json:"title"`
}

// FindKVNamespace returns the KV namespace titled title, or nil, nil.
//
// API: GET /accounts/{account_id}/storage/kv/namespaces (developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/list/).
func (c *Client) FindKVNamespace(ctx context.Context, title string) (*KVNamespace, error) {
	for page := 1; page <= maxResourcePages; page++ {
		var ns []KVNamespace
		var info resultInfo
		err := c.do(ctx, &call{
			method: http.MethodGet,
			path:   c.accountPath("storage", "kv", "namespaces"),
			query:  url.Values{"page": {strconv.Itoa(page)}, "per_page": {"100"}},
			out:    &ns,
			info:   &info,
		})
		if err != nil {
			return nil, fmt.Errorf("failed to look up KV namespace %q: %w", title, err)
		}
		for i := range ns {
			if ns[i].Title == title {
				return &ns[i], nil
			}
		}
		if len(ns) == 0 || (info.TotalPages > 0 && page >= info.TotalPages) || (info.TotalPages == 0 && len(ns) < 100) {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("failed to look up KV namespace %q: stopped after %d pages", title, maxResourcePages)
}

// CreateKVNamespace creates a KV namespace titled title.
//
// API: POST /accounts/{account_id}/storage/kv/namespaces {title}.
func (c *Client) CreateKVNamespace(ctx context.Context, title string) (*KVNamespace, error) {
	body, _ := json.Marshal(map[string]string{"title": title})
	var ns KVNamespace
	err := c.do(ctx, &call{
		method: http.MethodPost,
		path:   c.accountPath("storage", "kv", "namespaces"),
		body:   jsonBody(body),
		out:    &ns,
		write:  true,
		check: func(ctx context.Context) (bool, error) {
			got, err := c.FindKVNamespace(ctx, title)
			if err != nil || got == nil {
				return false, err
			}
			ns = *got
			return true, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create KV namespace %q: %w", title, err)
	}
	return &ns, nil
}

// r2Header carries an R2 bucket's jurisdiction ("" for the default).
func r2Header(jurisdiction string) http.Header {
	if jurisdiction == "" {
		return nil
	}
	return http.Header{"Cf-R2-Jurisdiction": {jurisdiction}}
}

// R2BucketExists reports whether the bucket exists in the jurisdiction.
//
// API: GET /accounts/{account_id}/r2/buckets/{bucket_name} with header
// cf-r2-jurisdiction (developers.cloudflare.com/api/resources/r2/subresources/buckets/methods/get/).
func (c *Client) R2BucketExists(ctx context.Context, name, jurisdiction string) (bool, error) {
	err := c.do(ctx, &call{
		method: http.MethodGet,
		path:   c.accountPath("r2", "buckets", name),
		header: r2Header(jurisdiction),
	})
	var ae *APIError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("failed to look up R2 bucket %q: %w", name, err)
}

// CreateR2Bucket creates a bucket in the jurisdiction. A bucket that exists
// already (HTTP 409) counts as created.
//
// API: POST /accounts/{account_id}/r2/buckets {name} with header cf-r2-jurisdiction.
func (c *Client) CreateR2Bucket(ctx context.Context, name, jurisdiction string) error {
	body, _ := json.Marshal(map[string]string{"name": name})
	err := c.do(ctx, &call{
		method: http.MethodPost,
		path:   c.accountPath("r2", "buckets"),
		header: r2Header(jurisdiction),
		body:   jsonBody(body),
		write:  true,
		check: func(ctx context.Context) (bool, error) {
			return c.R2BucketExists(ctx, name, jurisdiction)
		},
	})
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to create R2 bucket %q: %w", name, err)
	}
	return nil
}

// scriptInfo is an entry of the account's script list.
type scriptInfo struct {
	ID           string `json:"id"`
	MigrationTag string `json:"migration_tag"`
}

// ScriptMigrationTag returns the Durable Object migration tag of the
// Worker named name: "" when it has none or does not exist. It reads the
// account's script list, as wrangler does.
//
// API: GET /accounts/{account_id}/workers/scripts (migration_tag of each script).
func (c *Client) ScriptMigrationTag(ctx context.Context, name string) (string, error) {
	var scripts []scriptInfo
	err := c.do(ctx, &call{
		method: http.MethodGet,
		path:   c.accountPath("workers", "scripts"),
		out:    &scripts,
	})
	if err != nil {
		return "", fmt.Errorf("failed to read the migration tag of worker %q: %w", name, err)
	}
	for _, s := range scripts {
		if s.ID == name {
			return s.MigrationTag, nil
		}
	}
	return "", nil
}
