// Command collect copies real wrangler configurations out of local git
// mirrors into testdata/wrangler-real/<case>/ with a SOURCE note (repository,
// commit, path, license), the environments the file defines (ENVS) and the
// files a stub project needs for wrangler to deploy it (STUB.json). Each
// argument is <git dir>:<owner/repo>:<path>; the license line is read from the
// repository's LICENSE at the same commit.
//
//	go run ./testdata/wrangler-real/collect /work/.mirror/cloudflare+agents/repo:cloudflare/agents:examples/a2a/wrangler.jsonc …
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/tailscale/hujson"
)

func main() {
	out := "testdata/wrangler-real"
	for _, arg := range os.Args[1:] {
		parts := strings.SplitN(arg, ":", 3)
		if err := collect(out, parts[0], parts[1], parts[2]); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", arg, err)
		}
	}
}

func git(dir string, args ...string) ([]byte, error) {
	return exec.Command("git", append([]string{"--git-dir", dir}, args...)...).Output()
}

func collect(out, gitDir, repo, file string) error {
	commit, err := git(gitDir, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	data, err := git(gitDir, "show", "HEAD:"+file)
	if err != nil {
		return err
	}
	lic, _ := git(gitDir, "show", "HEAD:LICENSE")
	licLine := strings.TrimSpace(strings.SplitN(string(lic), "\n", 2)[0])
	if licLine == "" {
		if _, err := git(gitDir, "show", "HEAD:LICENSE-MIT"); err == nil {
			licLine = "MIT or Apache-2.0, at your option (LICENSE-MIT, LICENSE-APACHE)"
		}
	}
	var m map[string]any
	if strings.HasSuffix(file, ".toml") {
		if _, err := toml.Decode(string(data), &m); err != nil {
			return err
		}
	} else {
		std, err := hujson.Standardize(data)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(std, &m); err != nil {
			return err
		}
	}
	name := strings.ReplaceAll(strings.TrimSuffix(repo[strings.Index(repo, "/")+1:]+"-"+path.Dir(file), "-."), "/", "-")
	dir := filepath.Join(out, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, path.Base(file)), data, 0o644); err != nil {
		return err
	}
	src := fmt.Sprintf("repository: https://github.com/%s\ncommit: %s\npath: %s\nlicense: %s (the repository's LICENSE)\n", repo, strings.TrimSpace(string(commit)), file, licLine)
	if err := os.WriteFile(filepath.Join(dir, "SOURCE"), []byte(src), 0o644); err != nil {
		return err
	}
	var envs []string
	if e, ok := m["env"].(map[string]any); ok {
		for k := range e {
			envs = append(envs, k)
		}
	}
	sort.Strings(envs)
	if len(envs) > 0 {
		if err := os.WriteFile(filepath.Join(dir, "ENVS"), []byte(strings.Join(envs, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	// The stub: the entry (when set) exporting every class the file names,
	// and an index.html in every assets directory.
	classes := map[string]bool{}
	files := map[string]bool{}
	// Assets without a directory are filled in by a build tool (the Vite
	// plugin's generated configuration); wrangler is then given --assets.
	assetsFlag := ""
	sections := []map[string]any{m}
	for _, e := range envs {
		if s, ok := m["env"].(map[string]any)[e].(map[string]any); ok {
			sections = append(sections, s)
		}
	}
	secrets := map[string]bool{}
	for _, s := range sections {
		if sec, ok := s["secrets"].(map[string]any); ok {
			if req, ok := sec["required"].([]any); ok {
				for _, r := range req {
					if n, ok := r.(string); ok {
						secrets[n] = true
					}
				}
			}
		}
		if mainFile, ok := s["main"].(string); ok && mainFile != "" {
			files[path.Clean(mainFile)] = true
		}
		if a, ok := s["assets"].(map[string]any); ok {
			if d, ok := a["directory"].(string); ok && d != "" {
				files[path.Join(path.Clean(d), "index.html")] = true
			} else {
				assetsFlag = "stub-assets"
				files["stub-assets/index.html"] = true
			}
		}
		if do, ok := s["durable_objects"].(map[string]any); ok {
			if bs, ok := do["bindings"].([]any); ok {
				for _, b := range bs {
					if bm, ok := b.(map[string]any); ok && bm["script_name"] == nil {
						if c, ok := bm["class_name"].(string); ok {
							classes[c] = true
						}
					}
				}
			}
		}
		if ws, ok := s["workflows"].([]any); ok {
			for _, w := range ws {
				if wm, ok := w.(map[string]any); ok && wm["script_name"] == nil {
					if c, ok := wm["class_name"].(string); ok {
						classes[c] = true
					}
				}
			}
		}
	}
	var entry strings.Builder
	entry.WriteString("export default { fetch() { return new Response(\"ok\"); } };\n")
	cs := make([]string, 0, len(classes))
	for c := range classes {
		cs = append(cs, c)
	}
	sort.Strings(cs)
	for _, c := range cs {
		fmt.Fprintf(&entry, "export class %s {}\n", c)
	}
	fl := make([]string, 0, len(files))
	for f := range files {
		fl = append(fl, f)
	}
	sort.Strings(fl)
	sl := make([]string, 0, len(secrets))
	for n := range secrets {
		sl = append(sl, n)
	}
	sort.Strings(sl)
	stub, _ := json.MarshalIndent(map[string]any{"entry": entry.String(), "files": fl, "assets_flag": assetsFlag, "secrets": sl}, "", "\t")
	return os.WriteFile(filepath.Join(dir, "STUB.json"), append(stub, '\n'), 0o644)
}
