package app

import (
	"fmt"
	"io"

	"github.com/sethvargo/go-githubactions"

	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// console is where a run prints: workflow commands (::warning:: …) inside
// Actions, plain lines elsewhere, where nothing interprets the commands and
// their %-escaping would only garble the text (`100%25`).
type console interface {
	pipeline.Logger
	Errorf(format string, args ...any)
}

var (
	_ console = (*githubactions.Action)(nil)
	_ console = (*plainConsole)(nil)
)

// plainConsole prints human-readable lines for a terminal or another CI.
type plainConsole struct {
	w     io.Writer
	debug bool
}

func (p *plainConsole) line(prefix, format string, args ...any) {
	fmt.Fprintf(p.w, prefix+format+"\n", args...)
}

// Infof prints a line.
func (p *plainConsole) Infof(format string, args ...any) { p.line("", format, args...) }

// Noticef prints a line starting with "notice: ".
func (p *plainConsole) Noticef(format string, args ...any) { p.line("notice: ", format, args...) }

// Warningf prints a line starting with "warning: ".
func (p *plainConsole) Warningf(format string, args ...any) { p.line("warning: ", format, args...) }

// Errorf prints a line starting with "error: ".
func (p *plainConsole) Errorf(format string, args ...any) { p.line("error: ", format, args...) }

// Debugf prints only with RUNNER_DEBUG=1, as in Actions.
func (p *plainConsole) Debugf(format string, args ...any) {
	if p.debug {
		p.line("debug: ", format, args...)
	}
}

// Group prints a heading.
func (p *plainConsole) Group(title string) { p.line("", "%s", title) }

// EndGroup does nothing.
func (p *plainConsole) EndGroup() {}
