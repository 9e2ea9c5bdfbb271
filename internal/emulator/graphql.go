package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Invocations are a Worker version's invocation counts, as the GraphQL
// analytics dataset workersInvocationsAdaptive reports them.
type Invocations struct {
	// Requests is the number of invocations.
	Requests int64
	// Errors is how many of them failed (status scriptThrewException).
	Errors int64
}

// AnyVersion, as the version of SetInvocations, gives counts to every version
// of the Worker that has none of its own (tests do not know the ID of a
// version the action is about to create).
const AnyVersion = "*"

// analyticsState holds the counts set by SetInvocations: script → version → counts.
type analyticsState map[string]map[string]Invocations

// SetInvocations sets the counts that POST /graphql reports for one version of
// the Worker named script (or AnyVersion), for any time window: the emulator
// keeps no time series, so every query sees the same totals. Counts are
// clamped so that 0 <= errors <= requests.
func (s *Server) SetInvocations(script, version string, inv Invocations) {
	inv.Requests = max(inv.Requests, 0)
	inv.Errors = min(max(inv.Errors, 0), inv.Requests)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.analytics == nil {
		s.analytics = analyticsState{}
	}
	if s.analytics[script] == nil {
		s.analytics[script] = map[string]Invocations{}
	}
	s.analytics[script][strings.ToLower(version)] = inv
}

// ParseInvocations parses the -invocations flag of cmd/workers-emulator:
// "WORKER=VERSION:REQUESTS:ERRORS", where VERSION is a version ID or "*".
func ParseInvocations(spec string) (script, version string, inv Invocations, err error) {
	script, rest, ok := strings.Cut(strings.TrimSpace(spec), "=")
	parts := strings.Split(rest, ":")
	if !ok || script == "" || len(parts) != 3 || parts[0] == "" {
		return "", "", Invocations{}, fmt.Errorf("invalid invocations %q: want WORKER=VERSION:REQUESTS:ERRORS, e.g. shop=*:1000:5", spec)
	}
	req, err1 := strconv.ParseInt(parts[1], 10, 64)
	errs, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || req < 0 || errs < 0 || errs > req {
		return "", "", Invocations{}, fmt.Errorf("invalid invocations %q: REQUESTS and ERRORS are whole numbers with 0 <= ERRORS <= REQUESTS", spec)
	}
	return script, parts[0], Invocations{Requests: req, Errors: errs}, nil
}

type graphqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// graphqlAnswer is a GraphQL response: not a v4 envelope.
type graphqlAnswer struct {
	Data   any            `json:"data"`
	Errors []graphqlError `json:"errors"`
}

type graphqlError struct {
	Message string `json:"message"`
}

func graphqlFail(format string, args ...any) *reply {
	// The GraphQL API reports query errors with HTTP 200 and an errors array
	// (docs/workers-api.md §13.2: "always check the top-level errors array").
	return &reply{status: http.StatusOK, raw: graphqlAnswer{Errors: []graphqlError{{Message: fmt.Sprintf(format, args...)}}}}
}

type invocationRow struct {
	Dimensions struct {
		ScriptVersion string `json:"scriptVersion"`
		Status        string `json:"status"`
	} `json:"dimensions"`
	Sum struct {
		Requests int64 `json:"requests"`
		Errors   int64 `json:"errors"`
	} `json:"sum"`
}

// graphql serves POST /graphql for the one query workers-deploy sends
// (cloudflare.InvocationsQuery): workersInvocationsAdaptive of one Worker's
// versions, grouped by scriptVersion and status. It is not a GraphQL engine:
// the filter values are read from the variables $accountTag, $script,
// $versions, $since and $until, the names used in docs/workers-api.md §13.2.
func (s *Server) graphql(rc *reqCtx) *reply {
	var in graphqlRequest
	if err := json.Unmarshal(rc.body, &in); err != nil || in.Query == "" {
		return &reply{status: http.StatusBadRequest, raw: graphqlAnswer{Errors: []graphqlError{{Message: "failed to parse the request: want a JSON object with query and variables"}}}}
	}
	if !strings.Contains(in.Query, "workersInvocationsAdaptive") {
		return graphqlFail("the emulator serves only the workersInvocationsAdaptive query")
	}
	str := func(k string) string { v, _ := in.Variables[k].(string); return v }
	acct := strings.ToLower(str("accountTag"))
	switch {
	case !hex32Re.MatchString(acct):
		return graphqlFail("variable accountTag must be a 32-hex account ID")
	case s.accountID != "" && acct != s.accountID:
		return graphqlFail("not authorized for that account")
	case str("script") == "":
		return graphqlFail("variable script is required")
	}
	for _, k := range []string{"since", "until"} {
		if _, err := time.Parse(time.RFC3339, str(k)); err != nil {
			return graphqlFail("variable %s must be an RFC 3339 time", k)
		}
	}
	var versions []string
	if raw, ok := in.Variables["versions"].([]any); ok {
		for _, v := range raw {
			if id, ok := v.(string); ok {
				versions = append(versions, strings.ToLower(id))
			}
		}
	}
	s.mu.Lock()
	counts := s.analytics[str("script")]
	if len(versions) == 0 {
		for v := range counts {
			if v != AnyVersion {
				versions = append(versions, v)
			}
		}
		slices.Sort(versions)
	}
	rows := []invocationRow{}
	for _, v := range versions {
		inv, ok := counts[v]
		if !ok {
			inv = counts[AnyVersion]
		}
		add := func(status string, req, errs int64) {
			if req == 0 {
				return
			}
			var r invocationRow
			r.Dimensions.ScriptVersion, r.Dimensions.Status = v, status
			r.Sum.Requests, r.Sum.Errors = req, errs
			rows = append(rows, r)
		}
		add("success", inv.Requests-inv.Errors, 0)
		add("scriptThrewException", inv.Errors, inv.Errors)
	}
	s.mu.Unlock()
	data := map[string]any{"viewer": map[string]any{"accounts": []any{map[string]any{"workersInvocationsAdaptive": rows}}}}
	return &reply{status: http.StatusOK, raw: graphqlAnswer{Data: data}}
}
