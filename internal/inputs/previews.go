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

func (c *Config) loadPreviews(l *loader) {
	p := &c.Preview
	p.Mode = l.str("preview")
	if p.Mode == "" {
		p.Mode = PreviewAuto
	}
	switch p.Mode {
	case PreviewAuto, PreviewPreviews, PreviewVersions:
	default:
		l.fail("preview", "%q is not a preview mode: use auto, previews or versions", p.Mode)
	}
	p.Name = l.str("preview-name")
	if p.Name != "" {
		if err := CheckPreviewName(p.Name); err != nil {
			l.fail("preview-name", "%v", err)
		} else if c.Deploy {
			l.fail("preview-name", "`preview-name` updates a Worker Preview and `deploy: true` deploys production; a run does one or the other: remove one of them")
		}
	}
	p.Delete = l.boolean("delete-preview")
}
