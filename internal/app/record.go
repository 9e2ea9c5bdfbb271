package app

import (
	"io"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/console"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
	"github.com/workers-deploy/workers-deploy/internal/redact"
	"github.com/workers-deploy/workers-deploy/internal/report"
)

// recordOut is where the run record goes: the `result` output when the
// runner's output file is there, and stdout with --json outside Actions.
type recordOut struct {
	con   *console.Console
	files runnerFiles
	// stdout is set with --json outside Actions; the Console then writes to
	// stderr.
	stdout io.Writer
}

// write builds the record of res (nil when the run failed before the
// pipeline), redacts every string of it, and writes it. A record that cannot
// be written is a warning.
func (o recordOut) write(res *pipeline.Result, d report.RecordDetails, red *redact.Redactor) {
	if o.files.output == "" && o.stdout == nil {
		return
	}
	d.Version = Version
	d.Notices, d.Warnings = o.con.Notices(), o.con.Warnings()
	redactFn := func(s string) string { return s }
	if red != nil {
		redactFn = red.Redact
	}
	if o.stdout != nil {
		doc, err := report.NewRecord(res, d).Encode(redactFn)
		if err != nil {
			o.con.Warningf("failed to encode the run record: %s", err)
			return
		}
		if _, err := o.stdout.Write(append(doc, '\n')); err != nil {
			o.con.Warningf("failed to print the run record: %s", err)
		}
	}
	if o.files.output != "" {
		doc, err := report.NewRecord(res, d).EncodeWithin(report.MaxOutputBytes, redactFn)
		if err != nil {
			o.con.Warningf("failed to encode the run record: %s", err)
			return
		}
		if len(doc) > report.MaxOutputBytes {
			o.con.Warningf("the run record is %d bytes, over GitHub's limit of 1 MB for a step output: the output result may be refused", len(doc))
		}
		if err := console.WriteOutputs(o.files.output, []console.Output{{Name: "result", Value: string(doc)}}); err != nil {
			o.con.Warningf("failed to write the step output result: %s", err)
		}
	}
}

// wantJSON reports whether the `json` input is on. When the flags could not
// be read (src is nil), a --json flag among them still asks for the record,
// so that a bad flag is reported as a document too.
func wantJSON(src *inputs.Source, args []string) bool {
	if src != nil {
		v, _ := src.Lookup("json")
		return strings.EqualFold(strings.TrimSpace(v), "true")
	}
	for _, a := range args {
		if a == "--json" || a == "-json" || strings.EqualFold(a, "--json=true") || strings.EqualFold(a, "-json=true") {
			return true
		}
	}
	return false
}

// stderrOf is env.Stderr, or a writer that discards.
func stderrOf(env Env) io.Writer {
	if env.Stderr == nil {
		return io.Discard
	}
	return env.Stderr
}
