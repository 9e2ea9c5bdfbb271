package cloudflare

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
)

// bearerKey carries a call-specific bearer token to authTransport.
type bearerKey struct{}

// AssetManifestEntry describes one static asset file (docs/workers-api.md §8).
type AssetManifestEntry struct {
	// Hash is 32 hex characters: the first half of the file's SHA-256.
	Hash string `json:"hash"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
}

// AssetUploadSession is the answer to an upload-session request.
type AssetUploadSession struct {
	// JWT is the upload token for UploadAssets, or, when Buckets is empty,
	// already the completion token to attach to the version.
	JWT string `json:"jwt"`
	// Buckets group the hashes the service does not have yet; each bucket is
	// uploaded with one UploadAssets call.
	Buckets [][]string `json:"buckets"`
}

// AssetFile is one file of an upload bucket.
type AssetFile struct {
	// Hash is the file's manifest hash; it names the multipart part.
	Hash string
	// ContentType is stored and served with the asset (application/null for none).
	ContentType string
	// Open returns the file's content; it is called once per attempt.
	Open func() (io.ReadCloser, error)
}

// CreateAssetUploadSession starts an asset upload for the Worker called
// scriptName (its name, not its ID) with the manifest of every asset path.
// Starting a session changes nothing that a second one would not, so it is
// re-sent after an ambiguous failure.
//
// API: POST /accounts/{account_id}/workers/scripts/{script_name}/assets-upload-session (docs/workers-api.md §4, §8).
func (c *Client) CreateAssetUploadSession(ctx context.Context, scriptName string, manifest map[string]AssetManifestEntry) (*AssetUploadSession, error) {
	if scriptName == "" {
		return nil, errors.New("failed to start an asset upload session: the worker name is empty")
	}
	body, err := json.Marshal(map[string]any{"manifest": manifest})
	if err != nil {
		return nil, fmt.Errorf("failed to start an asset upload session for worker %q: %w", scriptName, err)
	}
	var s AssetUploadSession
	err = c.do(ctx, &call{
		method: http.MethodPost,
		path:   c.accountPath("workers", "scripts", scriptName, "assets-upload-session"),
		body:   jsonBody(body),
		out:    &s,
		valid: func() string {
			if s.JWT == "" {
				return "the session's jwt"
			}
			return ""
		},
		write: true,
		check: resend,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to start an asset upload session for worker %q: %w", scriptName, err)
	}
	if s.JWT == "" {
		return nil, fmt.Errorf("failed to start an asset upload session for worker %q: the answer has no jwt", scriptName)
	}
	return &s, nil
}

// resend is the outcome check of idempotent writes: re-sending is harmless.
func resend(context.Context) (bool, error) { return false, nil }

// UploadAssets uploads one bucket of files with the session's upload token
// (never the API token) as base64 multipart. It returns the completion token
// when the service has every file of the manifest (HTTP 201), "" otherwise.
// Uploads are content-addressed, so a failed attempt is simply re-sent.
//
// API: POST /accounts/{account_id}/workers/assets/upload?base64=true (docs/workers-api.md §4, §8).
func (c *Client) UploadAssets(ctx context.Context, uploadJWT string, files []AssetFile) (string, error) {
	if uploadJWT == "" {
		return "", errors.New("failed to upload assets: the upload token is empty")
	}
	if !validToken(uploadJWT) {
		return "", errors.New("failed to upload assets: the upload token from the session contains white space")
	}
	body := &multipartBody{files: files, boundary: multipart.NewWriter(io.Discard).Boundary()}
	var res struct {
		JWT string `json:"jwt"`
	}
	err := c.do(ctx, &call{
		method:      http.MethodPost,
		path:        c.accountPath("workers", "assets", "upload"),
		query:       url.Values{"base64": {"true"}},
		body:        body,
		out:         &res,
		write:       true,
		check:       resend,
		contentType: "multipart/form-data; boundary=" + body.boundary,
		bearer:      uploadJWT,
	})
	if err != nil {
		return "", fmt.Errorf("failed to upload %d assets: %w", len(files), err)
	}
	return res.JWT, nil
}

// multipartBody encodes a bucket: one part per file, named by its hash, with
// the base64 of the content. A bucket is bounded by the service (a few MB to
// tens of MB), so each attempt builds it in memory.
type multipartBody struct {
	files    []AssetFile
	boundary string
}

func (b *multipartBody) open(fail *failRecorder) io.ReadCloser {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary(b.boundary)
	for _, f := range b.files {
		if err := writeAssetPart(mw, f); err != nil {
			fail.set(err)
			return io.NopCloser(&errReader{err: err})
		}
	}
	_ = mw.Close()
	return io.NopCloser(&buf)
}

func writeAssetPart(mw *multipart.Writer, f AssetFile) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.Hash, f.Hash))
	ct := f.ContentType
	if ct == "" {
		ct = "application/null"
	}
	h.Set("Content-Type", ct)
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("failed to read asset %s while uploading it: %w", f.Hash, err)
	}
	defer rc.Close()
	enc := base64.NewEncoder(base64.StdEncoding, w)
	if _, err := io.Copy(enc, rc); err != nil {
		return fmt.Errorf("failed to read asset %s while uploading it: %w", f.Hash, err)
	}
	return enc.Close()
}

// errReader fails every read (a file that could not be read).
type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }
