package inputs

import (
	"fmt"
	"regexp"
)

// Preview modes of the `preview` input.
const (
	PreviewAuto     = "auto"
	PreviewPreviews = "previews"
	PreviewVersions = "versions"
)

// MaxPreviewNameLen is Cloudflare's limit on a Preview name.
const MaxPreviewNameLen = 256

// previewName is Cloudflare's pattern for a Preview name (feature/x is valid).
var previewName = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9\-_/.+=]*[a-zA-Z0-9])?$`)

// PreviewConfig holds the inputs of pull-request previews.
type PreviewConfig struct {
	// Mode is `preview`: auto, previews or versions.
	Mode string
	// Name is `preview-name`; "" means pr-<number> on pull-request events and
	// no Preview on other events.
	Name string
	// Delete is `delete-preview`: a closed pull request deletes its Preview.
	Delete bool
}

// CheckPreviewName validates a Preview name.
func CheckPreviewName(s string) error {
	if len(s) > MaxPreviewNameLen || !previewName.MatchString(s) {
		return fmt.Errorf("%q is not a Preview name: use letters, digits and - _ / . + =, starting and ending with a letter or digit, at most %d characters", s, MaxPreviewNameLen)
	}
	return nil
}

// previewFields are the inputs of pull-request previews.
var previewFields = map[string]field{
	"preview": func(c *Config, l *loader, name string) {
		p := &c.Preview
		p.Mode = l.str(name)
		if p.Mode == "" {
			p.Mode = PreviewAuto
		}
		switch p.Mode {
		case PreviewAuto, PreviewPreviews, PreviewVersions:
		default:
			l.fail(name, "%q is not a preview mode: use auto, previews or versions", p.Mode)
		}
	},
	"preview-name": func(c *Config, l *loader, name string) {
		c.Preview.Name = l.str(name)
		if c.Preview.Name != "" {
			if err := CheckPreviewName(c.Preview.Name); err != nil {
				l.fail(name, "%v", err)
			}
		}
	},
	"delete-preview": boolField(func(c *Config) *bool { return &c.Preview.Delete }),
}

// checkPreviews refuses a valid `preview-name` together with `deploy: true`.
func checkPreviews(c *Config, l *loader) {
	if c.Preview.Name != "" && CheckPreviewName(c.Preview.Name) == nil && c.Deploy {
		l.fail("preview-name", "`preview-name` updates a Worker Preview and `deploy: true` deploys production; a run does one or the other: remove one of them")
	}
}
