package emulator

import (
	"net/http"

	"github.com/workers-deploy/workers-deploy/internal/faultinject"
)

// Fault describes an injected failure; see package faultinject, whose model the emulator
// shares with the other test doubles. Fault.Path is matched after BasePath.
type Fault = faultinject.Fault

// FaultKind says what an injected Fault does to a matching request.
type FaultKind = faultinject.Kind

// The fault kinds (see faultinject.Kind).
const (
	FaultStatus       = faultinject.Status
	FaultDrop         = faultinject.Drop
	FaultLostResponse = faultinject.LostResponse
	FaultLatency      = faultinject.Latency
	FaultLate         = faultinject.Late
	FaultEmpty        = faultinject.Empty
)

// ParseFault parses the compact fault syntax of the -fault flag (see faultinject.Parse).
func ParseFault(spec string) (Fault, error) { return faultinject.Parse(spec) }

// emptyAnswer is the answer of an Empty fault: success without the result's fields.
const emptyAnswer = `{"success":true,"errors":[],"messages":[],"result":{}}`

func (s *Server) newInjector() *faultinject.Injector {
	return &faultinject.Injector{
		Prefix:      BasePath,
		WriteStatus: writeFaultStatus,
		EmptyBody:   emptyAnswer,
		Sleep:       s.sleep,
	}
}

// InjectFault adds f after the faults already injected. For each request the first fault
// (in insertion order) whose Method and Path match and that has uses left applies, and one use
// is consumed. Safe for concurrent use.
func (s *Server) InjectFault(f Fault) { s.faults.Add(f) }

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// UnfiredFaults returns the injected faults with Times > 0 that no request has met yet.
func (s *Server) UnfiredFaults() []Fault { return s.faults.Unfired() }

// FailUnfiredFaults makes t fail at its end for every injected fault with Times > 0 that
// never fired. Test helpers that start an emulator call it.
func (s *Server) FailUnfiredFaults(t faultinject.TB) { s.faults.FailUnfired(t, "emulator") }

func defaultFaultCode(status int) int {
	switch {
	case status == http.StatusTooManyRequests:
		// Cloudflare's rate limiter answers with code 971 ("Please wait and consider
		// throttling your request speed"); seen in real responses, not in the docs.
		return 971
	case status == http.StatusConflict:
		return 10035 // concurrent modification, docs/workers-api.md §3.3
	case status >= 500:
		return 10002 // internal error
	default:
		return 10021
	}
}

// writeFaultStatus answers a status fault in Cloudflare's envelope.
func writeFaultStatus(w http.ResponseWriter, f Fault, status int) {
	code := f.Code
	if code == 0 {
		code = defaultFaultCode(status)
	}
	fail(status, code, "Injected fault: %s", http.StatusText(status)).write(w)
}
