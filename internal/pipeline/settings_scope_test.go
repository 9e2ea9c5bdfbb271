package pipeline

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// TestResolveSettingsScope: the scope is a named type (a bare true or false
// does not compile); forUpload needs the version's settings, workerOnly only
// the Worker's name.
func TestResolveSettingsScope(t *testing.T) {
	t.Parallel()
	cfg := config(t, func(c *inputs.Config) { c.CompatibilityDate = "" })
	st, err := resolveSettings(cfg, deps(nil), workerOnly)
	require.NoError(t, err)
	assert.Equal(t, "shop", st.worker)
	_, err = resolveSettings(cfg, deps(nil), forUpload)
	var ie *inputs.Error
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "compatibility-date", ie.Input)
}
