package assets

import "testing"

func FuzzParseIgnore(f *testing.F) {
	f.Add("*.map\n!keep.map\n/build/\n", "a/b.map")
	f.Add("# c\n\\#x\ndocs/**/*.md\n", "docs/a/b.md")
	f.Add("[a-z]?\n", "ab")
	f.Add("{a,b}.txt\n[]x].js\nc**d\nlib/**\n\\{\n", "{a,b}.txt")
	f.Fuzz(func(t *testing.T, content, path string) {
		ig, err := ParseIgnore(content)
		if err != nil {
			return
		}
		_ = ig.Match(path, false)
		_ = ig.Match(path, true)
	})
}
