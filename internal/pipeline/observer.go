package pipeline

// Observer is told about a rollout as it happens, so reporting (GitHub
// Deployment statuses) can follow each stage. The rollout
// calls it; methods must return quickly and never fail the run.
type Observer interface {
	// VersionReady is called once the version exists (created or reused).
	VersionReady(res *Result)
	// StageStarted is called before each stage's deployment is written.
	StageStarted(res *Result, stage StageReport)
	// StageFinished is called after each stage's hold and gates.
	StageFinished(res *Result, stage StageReport)
}

// NopObserver ignores everything.
type NopObserver struct{}

// VersionReady does nothing.
func (NopObserver) VersionReady(*Result) {}

// StageStarted does nothing.
func (NopObserver) StageStarted(*Result, StageReport) {}

// StageFinished does nothing.
func (NopObserver) StageFinished(*Result, StageReport) {}

var _ Observer = NopObserver{}
