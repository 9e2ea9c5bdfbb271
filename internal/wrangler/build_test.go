package wrangler

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildKeys(t *testing.T) {
	t.Parallel()
	tru, fal := true, false
	cases := []struct {
		name, file, data string
		want             Build
		wantErr          string
	}{
		{name: "toml", file: "wrangler.toml",
			data: "name = \"w\"\nminify = true\nkeep_names = false\ntsconfig = \"tsconfig.build.json\"\n[define]\n__VERSION__ = '\"1.2\"'\n[alias]\nfoo = \"./src/foo.ts\"\n",
			want: Build{Define: map[string]string{"__VERSION__": `"1.2"`}, Alias: map[string]string{"foo": "./src/foo.ts"},
				Minify: &tru, KeepNames: &fal, Tsconfig: "tsconfig.build.json"}},
		{name: "absent", file: "wrangler.json", data: `{"name": "w"}`, want: Build{}},
		{name: "define not strings", file: "wrangler.json", data: `{"define": {"A": 1}}`, wantErr: `key "define" must be a table of strings`},
		{name: "minify not bool", file: "wrangler.json", data: `{"minify": "yes"}`, wantErr: `key "minify" must be true or false`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(tc.file, []byte(tc.data))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Build)
			assert.Empty(t, c.Ignored, "build keys are applied, not ignored")
		})
	}
}
