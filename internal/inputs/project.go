package inputs

// ProjectConfig holds the inputs of bindings, secrets and assets (issue 5).
type ProjectConfig struct {
	KeepSecrets bool
}

func (c *Config) loadProject(l *loader) {
	c.Project.KeepSecrets = l.boolean("keep-secrets")
	l.notYet("wrangler-env", "bindings", "vars", "secrets", "assets-directory")
}
