package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind says what an injected Fault does to a matching request.
type FaultKind int

const (
	// FaultStatus answers with Fault.Status and an error envelope (code Fault.Code) without
	// applying the request, optionally with Retry-After, Retry-After-Ms and x-should-retry.
	FaultStatus FaultKind = iota
	// FaultDrop closes the connection without a response; the request is not applied.
	FaultDrop
	// FaultLostResponse applies the request fully, then closes the connection without sending
	// the response, like a response lost on the way back.
	FaultLostResponse
	// FaultLatency sleeps for Fault.Latency, then serves the request normally.
	FaultLatency
	// FaultLate holds the request without answering until the client gives up on it (its
	// attempt timed out, or it was cancelled), then applies it Fault.Latency later: a write
	// the API applies after the client stopped waiting. The answer goes nowhere.
	FaultLate
	// FaultEmpty applies the request, then answers 200 with {"success":true,"result":{}}:
	// an answer without the fields the client needs.
	FaultEmpty
)

// lateHoldCap bounds how long a FaultLate holds a request whose client never gives up.
const lateHoldCap = 10 * time.Minute

var faultKindNames = map[FaultKind]string{
	FaultStatus:       "status",
	FaultDrop:         "drop",
	FaultLostResponse: "lost",
	FaultLatency:      "latency",
	FaultLate:         "late",
	FaultEmpty:        "empty",
}

// String returns the kind's name as used in fault specs: status, drop, lost, latency, late or
// empty.
func (k FaultKind) String() string {
	if n, ok := faultKindNames[k]; ok {
		return n
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault describes an injected failure. See ParseFault for the compact text form.
type Fault struct {
	// Method is the HTTP method to match, upper case; "" matches any method.
	Method string
	// Path is the path pattern to match after BasePath, e.g.
	// "/accounts/*/workers/workers/*/versions". A "*" segment matches exactly one segment; a
	// final "**" segment matches any rest, including nothing. "" matches every path.
	Path string
	// Times is how many matching requests the fault applies to; 0 means every one.
	Times int
	// Kind is what the fault does.
	Kind FaultKind
	// Status is the HTTP status of a FaultStatus answer, 400-599; anything else (such as 0)
	// means 500.
	Status int
	// Code is the Cloudflare error code in the answer's envelope; 0 picks one from Status:
	// 971 for 429, 10035 for 409, 10002 for 5xx, 10021 otherwise.
	Code int
	// RetryAfter, when set, is sent as the Retry-After header (seconds or an HTTP date).
	RetryAfter string
	// RetryAfterMs, when set, is sent as the Retry-After-Ms header (milliseconds).
	RetryAfterMs string
	// ShouldRetry, when set ("true" or "false"), is sent as the x-should-retry header, which
	// overrides the SDK's own retry decision (cloudflare-api.md §2.1).
	ShouldRetry string
	// Latency is how long a FaultLatency waits before serving, or how long after the client
	// gave up a FaultLate applies the request.
	Latency time.Duration
}

type faultEntry struct {
	f         Fault
	pattern   []string
	remaining int // meaningful only when f.Times > 0
}

// InjectFault adds f after the faults already injected. For each request the first fault
// (in insertion order) whose Method and Path match and that has uses left applies, and one use
// is consumed. Safe for concurrent use.
func (s *Server) InjectFault(f Fault) {
	f.Method = strings.ToUpper(f.Method)
	e := &faultEntry{f: f, pattern: splitPattern(f.Path), remaining: f.Times}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, e)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
}

// takeFault finds the first applicable fault for the request and consumes one use of it.
func (s *Server) takeFault(method, path string) (Fault, bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	segs := splitPattern(path)
	for i, e := range s.faults {
		if e.f.Method != "" && e.f.Method != method {
			continue
		}
		if !matchFaultPath(e.pattern, segs) {
			continue
		}
		if e.f.Times > 0 {
			e.remaining--
			if e.remaining <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return e.f, true
	}
	return Fault{}, false
}

func splitPattern(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchFaultPath reports whether the path segments match the pattern: "*" matches one
// segment, a final "**" any rest; an empty pattern matches everything.
func matchFaultPath(pattern, segs []string) bool {
	if len(pattern) == 0 {
		return true
	}
	for i, p := range pattern {
		if p == "**" && i == len(pattern)-1 {
			return true
		}
		if i >= len(segs) {
			return false
		}
		if p != "*" && p != segs[i] {
			return false
		}
	}
	return len(segs) == len(pattern)
}

func defaultFaultCode(status int) int {
	switch {
	case status == http.StatusTooManyRequests:
		// Cloudflare's rate limiter answers with code 971 ("Please wait and consider
		// throttling your request speed"); seen in real responses, not in the docs.
		return 971
	case status == http.StatusConflict:
		return 10035 // concurrent modification, cloudflare-api.md §3.3
	case status >= 500:
		return 10002 // internal error
	default:
		return 10021
	}
}

func writeFaultStatus(w http.ResponseWriter, f Fault) int {
	status := f.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	code := f.Code
	if code == 0 {
		code = defaultFaultCode(status)
	}
	rep := fail(status, code, "Injected fault: %s", http.StatusText(status))
	rep.header = http.Header{}
	if f.RetryAfter != "" {
		rep.header.Set("Retry-After", f.RetryAfter)
	}
	if f.RetryAfterMs != "" {
		rep.header.Set("Retry-After-Ms", f.RetryAfterMs)
	}
	if f.ShouldRetry != "" {
		rep.header.Set("X-Should-Retry", f.ShouldRetry)
	}
	return rep.write(w)
}

// ParseFault parses the compact fault syntax used by the -fault flag:
//
//	[METHOD] PATH [key=value]...
//
// METHOD is an HTTP method, or "*"/"ANY" for any (the default). PATH is a pattern as in
// Fault.Path and must start with "/"; "/**" matches everything. Keys:
//
//	kind=status|drop|lost|latency|late|empty  what to do (default: status when status= is
//	                  given, latency when latency= is given); late holds the request until the
//	                  client gives up, then applies it latency= later; empty applies it and
//	                  answers {"success":true,"result":{}}
//	status=N          HTTP status 400-599 (kind status)
//	code=N            Cloudflare error code in the envelope (kind status)
//	retry-after=S     Retry-After header value (kind status)
//	retry-after-ms=S  Retry-After-Ms header value (kind status)
//	should-retry=B    x-should-retry header, true or false (kind status)
//	latency=D         Go duration, e.g. 2s (kinds latency and late)
//	times=N           apply to the first N matching requests only; 0 (default) = all
//
// Examples: "POST /accounts/*/workers/workers/*/versions status=503 times=2",
// "GET /accounts/** kind=latency latency=2s", "POST /accounts/** kind=lost times=1",
// "POST /accounts/*/workers/scripts/*/deployments kind=late latency=1s times=1",
// "/** status=429 retry-after=1".
func ParseFault(spec string) (Fault, error) {
	fields := strings.Fields(spec)
	if len(fields) == 0 {
		return Fault{}, fmt.Errorf("failed to parse fault %q: it is empty, want \"[METHOD] /path [key=value]...\"", spec)
	}
	var f Fault
	if !strings.HasPrefix(fields[0], "/") && !strings.Contains(fields[0], "=") {
		m := strings.ToUpper(fields[0])
		switch {
		case m == "*" || m == "ANY":
		case isToken(m):
			f.Method = m
		default:
			return Fault{}, fmt.Errorf("failed to parse fault %q: method %q is not an HTTP method", spec, fields[0])
		}
		fields = fields[1:]
	}
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
		return Fault{}, fmt.Errorf("failed to parse fault %q: missing path pattern starting with \"/\", e.g. /accounts/*/workers/**", spec)
	}
	if err := validatePattern(fields[0]); err != nil {
		return Fault{}, fmt.Errorf("failed to parse fault %q: %w", spec, err)
	}
	f.Path = fields[0]

	seen := map[string]bool{}
	kindSet := false
	for _, kv := range fields[1:] {
		k, v, found := strings.Cut(kv, "=")
		if !found || v == "" {
			return Fault{}, fmt.Errorf("failed to parse fault %q: %q is not key=value", spec, kv)
		}
		if seen[k] {
			return Fault{}, fmt.Errorf("failed to parse fault %q: key %q given twice", spec, k)
		}
		seen[k] = true
		var err error
		switch k {
		case "kind":
			kindSet = true
			f.Kind, err = parseFaultKind(v)
		case "status":
			f.Status, err = parseIntRange(v, 400, 599)
		case "code":
			f.Code, err = parseIntRange(v, 1, 1<<31-1)
		case "times":
			f.Times, err = parseIntRange(v, 0, 1<<31-1)
		case "retry-after":
			f.RetryAfter, err = parseHeaderValue(v)
		case "retry-after-ms":
			f.RetryAfterMs, err = parseHeaderValue(v)
		case "should-retry":
			if v != "true" && v != "false" {
				err = fmt.Errorf("want true or false")
			}
			f.ShouldRetry = v
		case "latency":
			f.Latency, err = time.ParseDuration(v)
			if err == nil && f.Latency <= 0 {
				err = fmt.Errorf("want a positive duration")
			}
		default:
			return Fault{}, fmt.Errorf("failed to parse fault %q: unknown key %q (known: kind, status, code, times, retry-after, retry-after-ms, should-retry, latency)", spec, k)
		}
		if err != nil {
			return Fault{}, fmt.Errorf("failed to parse fault %q: invalid %s %q: %w", spec, k, v, err)
		}
	}
	if !kindSet {
		switch {
		case seen["status"]:
			f.Kind = FaultStatus
		case seen["latency"]:
			f.Kind = FaultLatency
		default:
			return Fault{}, fmt.Errorf("failed to parse fault %q: say what to do with kind=status|drop|lost|latency|late|empty or status=N", spec)
		}
	}
	allowed := map[FaultKind][]string{
		FaultStatus:       {"status", "code", "retry-after", "retry-after-ms", "should-retry"},
		FaultDrop:         nil,
		FaultLostResponse: nil,
		FaultLatency:      {"latency"},
		FaultLate:         {"latency"},
		FaultEmpty:        nil,
	}[f.Kind]
	for k := range seen {
		if k == "kind" || k == "times" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return Fault{}, fmt.Errorf("failed to parse fault %q: key %q does not apply to kind %s", spec, k, f.Kind)
		}
	}
	switch f.Kind {
	case FaultStatus:
		if f.Status == 0 {
			return Fault{}, fmt.Errorf("failed to parse fault %q: kind status needs status=N (400-599)", spec)
		}
	case FaultLatency, FaultLate:
		if f.Latency == 0 {
			return Fault{}, fmt.Errorf("failed to parse fault %q: kind %s needs latency=D, e.g. latency=2s", spec, f.Kind)
		}
	}
	return f, nil
}

// String returns f in the syntax ParseFault reads.
func (f Fault) String() string {
	var b strings.Builder
	if f.Method != "" {
		b.WriteString(f.Method)
		b.WriteByte(' ')
	}
	p := f.Path
	if p == "" {
		p = "/**"
	}
	b.WriteString(p)
	b.WriteString(" kind=" + f.Kind.String())
	if f.Status != 0 {
		fmt.Fprintf(&b, " status=%d", f.Status)
	}
	if f.Code != 0 {
		fmt.Fprintf(&b, " code=%d", f.Code)
	}
	if f.RetryAfter != "" {
		b.WriteString(" retry-after=" + f.RetryAfter)
	}
	if f.RetryAfterMs != "" {
		b.WriteString(" retry-after-ms=" + f.RetryAfterMs)
	}
	if f.ShouldRetry != "" {
		b.WriteString(" should-retry=" + f.ShouldRetry)
	}
	if f.Latency != 0 {
		b.WriteString(" latency=" + f.Latency.String())
	}
	if f.Times != 0 {
		fmt.Fprintf(&b, " times=%d", f.Times)
	}
	return b.String()
}

func parseFaultKind(v string) (FaultKind, error) {
	for k, n := range faultKindNames {
		if n == v {
			return k, nil
		}
	}
	if v == "lost-response" {
		return FaultLostResponse, nil
	}
	return 0, fmt.Errorf("want status, drop, lost, latency, late or empty")
}

func parseIntRange(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("want an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("want %d to %d", lo, hi)
	}
	return n, nil
}

// parseHeaderValue accepts printable ASCII only, so a spec cannot inject header lines.
func parseHeaderValue(v string) (string, error) {
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] >= 0x7f {
			return "", fmt.Errorf("want printable ASCII")
		}
	}
	return v, nil
}

// isToken reports whether s is a non-empty run of upper-case letters, as HTTP methods are.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func validatePattern(p string) error {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		switch {
		case s == "":
			if p == "/" {
				return fmt.Errorf("path %q matches only the API root; use /** to match every path", p)
			}
			return fmt.Errorf("path %q has an empty segment", p)
		case s == "**" && i != len(segs)-1:
			return fmt.Errorf("path %q uses ** before the last segment", p)
		case s != "*" && s != "**" && strings.Contains(s, "*"):
			return fmt.Errorf("path %q: a wildcard must be a whole segment (* or **)", p)
		}
	}
	return nil
}
