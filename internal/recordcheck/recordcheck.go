// Package recordcheck validates run records (the `result` output, `--json`)
// against docs/result.schema.json with a JSON Schema 2020-12 validator. It is
// imported by tests only, never by the action binary.
package recordcheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaFile is the schema's path relative to the repository root.
const SchemaFile = "docs/result.schema.json"

// Compile loads and compiles the schema at path.
func Compile(path string) (*jsonschema.Schema, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(abs, doc); err != nil {
		return nil, err
	}
	return c.Compile(abs)
}

// Validate checks one JSON document against the schema at path.
func Validate(path string, document []byte) error {
	sch, err := Compile(path)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(document))
	if err != nil {
		return fmt.Errorf("the record is not JSON: %w", err)
	}
	return sch.Validate(inst)
}
