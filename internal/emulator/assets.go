package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// assetTokenLifetime is the lifetime of upload and completion tokens (docs/workers-api.md §8: 1 h).
const assetTokenLifetime = time.Hour

// assetHashRe is a manifest hash: 32 hex characters (§8; the API is inferred to require
// only this form, not a particular hash function).
var assetHashRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// assetSession is an upload session or a completion token.
type assetSession struct {
	account, worker string            // worker ID
	manifest        map[string]string // path → hash
	expires         time.Time
	completion      bool
}

// assetState is the emulator's store of static assets; it lives in Server through
// assetStore, created on first use. Callers hold s.mu.
type assetState struct {
	tokens map[string]*assetSession
	// stored holds the hashes each Worker (by ID) has, with their content.
	stored map[string]map[string][]byte
}

func (s *Server) assetStore() *assetState {
	if s.assets == nil {
		s.assets = &assetState{tokens: map[string]*assetSession{}, stored: map[string]map[string][]byte{}}
	}
	return s.assets
}

// Assets returns the asset contents stored for the Worker (ID or name) by hash.
func (s *Server) Assets(workerIDOrName string) map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.findAnyWorker(workerIDOrName)
	if w == nil || s.assets == nil {
		return nil
	}
	out := map[string][]byte{}
	for h, c := range s.assets.stored[w.id] {
		out[h] = bytes.Clone(c)
	}
	return out
}

func newAssetToken(kind string) string {
	// Shaped like a JWT (three dot-separated parts); the content is opaque.
	return "eyJhbGciOiJIUzI1NiJ9." + kind + "." + hex.EncodeToString(randomBytes(16))
}

// createAssetUploadSession is A-S: POST /accounts/{a}/workers/scripts/{script}/assets-upload-session.
func (s *Server) createAssetUploadSession(rc *reqCtx) *reply {
	var in struct {
		Manifest map[string]struct {
			Hash *string `json:"hash"`
			Size *int64  `json:"size"`
		} `json:"manifest"`
	}
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	if in.Manifest == nil {
		return validationError("manifest is required")
	}
	if len(in.Manifest) > 20000 {
		return validationError("manifest has %d files; at most 20000 allowed", len(in.Manifest))
	}
	manifest := map[string]string{}
	for p, e := range in.Manifest {
		switch {
		case !strings.HasPrefix(p, "/"):
			return validationError("manifest path %q must start with /", p)
		case e.Hash == nil || !assetHashRe.MatchString(*e.Hash):
			return validationError("manifest entry %q: hash must be 32 hexadecimal characters", p)
		case e.Size == nil || *e.Size < 0:
			return validationError("manifest entry %q: size must be a non-negative integer", p)
		case *e.Size >= 25<<20:
			return validationError("manifest entry %q is %d bytes; assets must be smaller than 25 MiB", p, *e.Size)
		}
		manifest[p] = *e.Hash
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.account(rc.params["account"]).byName[rc.params["script"]]
	if w == nil {
		return workerNotFound(rc.params["script"])
	}
	st := s.assetStore()
	have := st.stored[w.id]
	var missing []string
	seen := map[string]bool{}
	for _, h := range manifest {
		if have[h] == nil && !seen[h] {
			seen[h] = true
			missing = append(missing, h)
		}
	}
	sess := &assetSession{account: rc.params["account"], worker: w.id, manifest: manifest, expires: s.now().Add(assetTokenLifetime)}
	if len(missing) == 0 {
		sess.completion = true
		tok := newAssetToken("completion")
		st.tokens[tok] = sess
		return ok(map[string]any{"jwt": tok, "buckets": [][]string{}})
	}
	tok := newAssetToken("upload")
	st.tokens[tok] = sess
	// Buckets of at most 10 files (the real bucket size is not documented).
	buckets := [][]string{}
	for i := 0; i < len(missing); i += 10 {
		buckets = append(buckets, missing[i:min(i+10, len(missing))])
	}
	return ok(map[string]any{"jwt": tok, "buckets": buckets})
}

// uploadAssets is A-U: POST /accounts/{a}/workers/assets/upload?base64=true, authenticated
// with the upload token of a session (not the API token).
func (s *Server) uploadAssets(rc *reqCtx) *reply {
	tok, found := bearerToken(rc.r)
	s.mu.Lock()
	st := s.assetStore()
	sess := st.tokens[tok]
	valid := found && sess != nil && !sess.completion &&
		sess.account == rc.params["account"] && s.now().Before(sess.expires)
	s.mu.Unlock()
	if !valid {
		// An API token here is refused too: this endpoint takes the session's JWT.
		return fail(http.StatusUnauthorized, 10000, "Authentication error: the upload needs the upload-session JWT as bearer token")
	}
	if rc.query.Get("base64") != "true" {
		return validationError("base64=true is required: file contents must be sent base64-encoded")
	}
	mt, params, err := mime.ParseMediaType(rc.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return malformedBody(errors.New("the body must be multipart/form-data"))
	}
	wanted := map[string]bool{}
	for _, h := range sess.manifest {
		wanted[h] = true
	}
	files := map[string][]byte{}
	mr := multipart.NewReader(bytes.NewReader(rc.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return malformedBody(err)
		}
		h := p.FormName()
		if !wanted[h] {
			return validationError("part %q is not a hash of the session's manifest", h)
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			return malformedBody(err)
		}
		content, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(raw)))
		if err != nil {
			return validationError("part %q is not valid base64", h)
		}
		files[h] = content
	}
	if len(files) == 0 {
		return validationError("the upload has no files")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	have := st.stored[sess.worker]
	if have == nil {
		have = map[string][]byte{}
		st.stored[sess.worker] = have
	}
	for h, c := range files {
		have[h] = c
	}
	for h := range wanted {
		if have[h] == nil {
			// Intermediate bucket: success without a token (status inferred, §12.7).
			return ok(map[string]any{})
		}
	}
	done := &assetSession{account: sess.account, worker: sess.worker, manifest: sess.manifest, expires: s.now().Add(assetTokenLifetime), completion: true}
	ct := newAssetToken("completion")
	st.tokens[ct] = done
	rep := ok(map[string]any{"jwt": ct})
	rep.status = http.StatusCreated
	return rep
}

// checkAssetsJWT accepts a version's assets.jwt only when it is a completion token this
// emulator issued for the Worker and account, and not expired (§11.12). It returns the
// upload's manifest (path → hash), or nil when the version has no assets. Callers hold s.mu.
func (s *Server) checkAssetsJWT(account string, w *worker, body []byte) (map[string]string, *reply) {
	var in struct {
		Assets *struct {
			JWT string `json:"jwt"`
		} `json:"assets"`
	}
	if json.Unmarshal(body, &in) != nil || in.Assets == nil || in.Assets.JWT == "" {
		return nil, nil
	}
	sess := s.assetStore().tokens[in.Assets.JWT]
	switch {
	case sess == nil || !sess.completion:
		return nil, validationError("assets.jwt is not a completion token of an asset upload")
	case sess.account != account || sess.worker != w.id:
		return nil, validationError("assets.jwt was issued for another Worker")
	case !s.now().Before(sess.expires):
		return nil, validationError("assets.jwt has expired; upload the assets again")
	}
	return maps.Clone(sess.manifest), nil
}
