package pipeline

import (
	"context"
	"fmt"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

func (f *fakeAPI) ScriptMigrationTag(_ context.Context, name string) (string, error) {
	f.record("ScriptMigrationTag " + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.migrationTag[name], nil
}

func (f *fakeAPI) FindD1Database(_ context.Context, name string) (*cloudflare.D1Database, error) {
	f.record("FindD1Database " + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.d1[name]; ok {
		return &cloudflare.D1Database{UUID: id, Name: name}, nil
	}
	return nil, nil
}

func (f *fakeAPI) CreateD1Database(_ context.Context, name string) (*cloudflare.D1Database, error) {
	f.record("CreateD1Database " + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.d1 == nil {
		f.d1 = map[string]string{}
	}
	f.d1[name] = fmt.Sprintf("d1-%d", len(f.d1)+1)
	return &cloudflare.D1Database{UUID: f.d1[name], Name: name}, nil
}

func (f *fakeAPI) FindKVNamespace(_ context.Context, title string) (*cloudflare.KVNamespace, error) {
	f.record("FindKVNamespace " + title)
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.kv[title]; ok {
		return &cloudflare.KVNamespace{ID: id, Title: title}, nil
	}
	return nil, nil
}

func (f *fakeAPI) CreateKVNamespace(_ context.Context, title string) (*cloudflare.KVNamespace, error) {
	f.record("CreateKVNamespace " + title)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.kv == nil {
		f.kv = map[string]string{}
	}
	f.kv[title] = fmt.Sprintf("kv-%d", len(f.kv)+1)
	return &cloudflare.KVNamespace{ID: f.kv[title], Title: title}, nil
}

func (f *fakeAPI) R2BucketExists(_ context.Context, name, jurisdiction string) (bool, error) {
	f.record("R2BucketExists " + jurisdiction + "/" + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r2[jurisdiction+"/"+name], nil
}

func (f *fakeAPI) CreateR2Bucket(_ context.Context, name, jurisdiction string) error {
	f.record("CreateR2Bucket " + jurisdiction + "/" + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r2 == nil {
		f.r2 = map[string]bool{}
	}
	f.r2[jurisdiction+"/"+name] = true
	return nil
}
