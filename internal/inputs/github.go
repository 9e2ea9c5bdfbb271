package inputs

// GitHubConfig holds the inputs of reporting to GitHub (issue 4).
type GitHubConfig struct {
	Token       string
	Comment     bool
	Deployment  bool
	Environment string
}

func (c *Config) loadGitHub(l *loader) {
	g := &c.GitHub
	g.Token = l.str("github-token")
	g.Comment = l.boolean("comment")
	g.Deployment = l.boolean("github-deployment")
	if g.Deployment {
		l.fail("github-deployment", "GitHub Deployments are not supported by this build yet; set it to false")
	}
	g.Environment = l.str("github-environment")
}
