package inputs

import (
	"strings"
	"unicode"
)

// GitHubConfig holds the inputs of reporting to GitHub.
type GitHubConfig struct {
	// Token is the github-token input (default `${{ github.token }}`); "" means
	// no comment and no GitHub Deployment can be written.
	Token string
	// Comment enables the sticky pull-request comment.
	Comment bool
	// Deployment enables the GitHub Deployment with a status per stage.
	Deployment bool
	// Environment is the github-environment input; "" means the default
	// (see EnvironmentFor).
	Environment string
}

// MaxEnvironmentName is GitHub's limit on an environment name (characters).
const MaxEnvironmentName = 255

// EnvironmentFor is the GitHub environment of the deployment: the input, else
// `production` when the run deploys and `preview` when it only uploads.
func (g GitHubConfig) EnvironmentFor(deploy bool) string {
	switch {
	case g.Environment != "":
		return g.Environment
	case deploy:
		return "production"
	}
	return "preview"
}

// gitHubFields are the inputs of reporting to GitHub.
var gitHubFields = map[string]field{
	"github-token":      func(c *Config, l *loader, name string) { c.GitHub.Token = strings.TrimSpace(l.str(name)) },
	"comment":           boolField(func(c *Config) *bool { return &c.GitHub.Comment }),
	"github-deployment": boolField(func(c *Config) *bool { return &c.GitHub.Deployment }),
	"github-environment": func(c *Config, l *loader, name string) {
		c.GitHub.Environment = strings.TrimSpace(l.str(name))
		if err := checkEnvironment(c.GitHub.Environment); err != "" {
			l.fail(name, "%s", err)
		}
	},
}

// checkEnvironment validates a GitHub environment name; "" is the default.
func checkEnvironment(s string) string {
	switch {
	case len([]rune(s)) > MaxEnvironmentName:
		return "the GitHub environment name is longer than 255 characters"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "the GitHub environment name contains a line break or control character"
	}
	return ""
}
