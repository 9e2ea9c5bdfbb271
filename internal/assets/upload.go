package assets

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

// DefaultConcurrency is the number of buckets uploaded at once.
const DefaultConcurrency = 3

// API is the part of the Cloudflare client the upload uses.
type API interface {
	CreateAssetUploadSession(ctx context.Context, scriptName string, manifest map[string]cloudflare.AssetManifestEntry) (*cloudflare.AssetUploadSession, error)
	UploadAssets(ctx context.Context, uploadJWT string, files []cloudflare.AssetFile) (string, error)
}

var _ API = (*cloudflare.Client)(nil)

// Result is what an upload did.
type Result struct {
	// CompletionJWT is the token to attach to the version as assets.jwt.
	CompletionJWT string
	// Uploaded counts the files sent; the others were already stored.
	Uploaded int
	// Buckets counts the upload requests.
	Buckets int
}

// Upload starts a session for the Worker called scriptName and uploads the
// buckets the service asks for, at most concurrency at a time (0 means
// DefaultConcurrency). Files the service has are not sent again.
func Upload(ctx context.Context, api API, scriptName string, m *Manifest, concurrency int) (*Result, error) {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	s, err := api.CreateAssetUploadSession(ctx, scriptName, m.Entries())
	if err != nil {
		return nil, err
	}
	if len(s.Buckets) == 0 {
		// Nothing is missing: the session's token is the completion token.
		return &Result{CompletionJWT: s.JWT}, nil
	}
	byHash := make(map[string]File, len(m.Files))
	for _, f := range m.Files {
		byHash[f.Hash] = f // identical content under several paths is sent once
	}
	buckets := make([][]cloudflare.AssetFile, 0, len(s.Buckets))
	res := &Result{Buckets: len(s.Buckets)}
	for _, hashes := range s.Buckets {
		var files []cloudflare.AssetFile
		for _, h := range hashes {
			f, ok := byHash[h]
			if !ok {
				return nil, fmt.Errorf("failed to upload assets: the upload session asked for hash %q, which is not in the manifest", h)
			}
			files = append(files, cloudflare.AssetFile{Hash: h, ContentType: f.ContentType, Open: f.Open})
		}
		res.Uploaded += len(files)
		buckets = append(buckets, files)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		errs []error
		jwt  string
		wg   sync.WaitGroup
		sem  = make(chan struct{}, concurrency)
	)
	for _, files := range buckets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			got, err := api.UploadAssets(ctx, s.JWT, files)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				cancel()
				return
			}
			if got != "" {
				jwt = got // the bucket that completes the set returns the completion token
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil && jwt == "" {
		return nil, fmt.Errorf("failed to upload assets: %w", err)
	}
	if jwt == "" {
		return nil, errors.New("failed to upload assets: every bucket was sent but the service returned no completion token")
	}
	res.CompletionJWT = jwt
	return res, nil
}
