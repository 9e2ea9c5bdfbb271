package app

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

func TestBadInputBeforeWriteSkipsGitHub(t *testing.T) {
	t.Parallel()
	inErr := &inputs.Error{Input: "version-id", Err: errors.New("matches no version")}
	bErr := &bundle.InputError{Input: bundle.InputModules, Err: errors.New("no file matched")}
	cases := []struct {
		name string
		res  *pipeline.Result
		err  error
		want bool
	}{
		{name: "input error before a version", res: &pipeline.Result{WorkerName: "shop"}, err: inErr, want: true},
		{name: "wrapped bundle error before a version", res: &pipeline.Result{WorkerName: "shop"}, err: fmt.Errorf("failed: %w", bErr), want: true},
		{name: "input error after a version exists", res: &pipeline.Result{WorkerName: "shop", VersionID: "v1"}, err: inErr},
		{name: "API error before a version", res: &pipeline.Result{WorkerName: "shop"}, err: errors.New("503 for the whole retry budget")},
		{name: "success", res: &pipeline.Result{WorkerName: "shop", VersionID: "v1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, badInputBeforeWrite(tc.res, tc.err))
		})
	}
}
