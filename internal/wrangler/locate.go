package wrangler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// RedirectFile is where build tools (the Cloudflare Vite plugin, Nitro) write the
// redirected configuration: {"configPath": "<path of the generated configuration>"},
// relative to the folder of this file. Wrangler reads it when no --config is given.
var RedirectFile = filepath.Join(".wrangler", "deploy", "config.json")

// Location is the configuration file a run reads.
type Location struct {
	// Path is the configuration file, "" when none (input `config: none`).
	Path string
	// RedirectedBy is the redirect file that named Path, "" when Path was found directly.
	RedirectedBy string
}

// Locate resolves the `config` input against dir like Find, but first follows the
// redirected configuration (RedirectFile in dir) when input is empty, as wrangler does: a
// build tool's generated configuration then wins over a root configuration (which may be
// missing). readFile reads the redirect file (os.ReadFile in production).
func Locate(dir, input string, readFile func(string) ([]byte, error)) (Location, error) {
	if input == "" {
		redirect := filepath.Join(dir, RedirectFile)
		data, err := readFile(redirect)
		switch {
		case err == nil:
			target, err := parseRedirect(data)
			if err != nil {
				return Location{}, fmt.Errorf("failed to read the redirected configuration %q (written by the build): %w; delete it or set input `config`", redirect, err)
			}
			p := target
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(redirect), p)
			}
			p = filepath.Clean(p)
			if _, err := readFile(p); err != nil {
				return Location{}, fmt.Errorf("the redirected configuration %q names %q, which cannot be read: %w; run the build again, or delete %s", redirect, target, err, RedirectFile)
			}
			return Location{Path: p, RedirectedBy: redirect}, nil
		case !errors.Is(err, fs.ErrNotExist) && !isNotDir(err):
			return Location{}, fmt.Errorf("failed to read %q: %w", redirect, err)
		}
	}
	p, err := Find(dir, input)
	return Location{Path: p}, err
}

// isNotDir reports ENOTDIR-like errors (a file named .wrangler): no redirect there.
func isNotDir(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not a directory")
}

// parseRedirect reads {"configPath": "…"}.
func parseRedirect(data []byte) (string, error) {
	var r struct {
		ConfigPath *string `json:"configPath"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("it is not a JSON object: %w", err)
	}
	if r.ConfigPath == nil || strings.TrimSpace(*r.ConfigPath) == "" {
		return "", errors.New("it has no `configPath`")
	}
	switch strings.ToLower(filepath.Ext(*r.ConfigPath)) {
	case ".json", ".jsonc", ".toml":
	default:
		return "", fmt.Errorf("its `configPath` %q is not a .json, .jsonc or .toml file", *r.ConfigPath)
	}
	return *r.ConfigPath, nil
}
