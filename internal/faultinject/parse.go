package faultinject

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind says what an injected Fault does to a matching request.
type Kind int

const (
	// Status answers with Fault.Status (and Fault.Body, or the Injector's own error body)
	// without applying the request, optionally with Retry-After, Retry-After-Ms and
	// x-should-retry.
	Status Kind = iota
	// Drop closes the connection without a response; the request is not applied.
	Drop
	// LostResponse applies the request fully, then closes the connection without sending
	// the response, like a response lost on the way back.
	LostResponse
	// Latency sleeps for Fault.Latency, then serves the request normally.
	Latency
	// Late holds the request without answering until the client gives up on it (its
	// attempt timed out, or it was cancelled), then applies it Fault.Latency later: a write
	// the API applies after the client stopped waiting. The answer goes nowhere.
	Late
	// Empty applies the request, then answers 200 with the Injector's EmptyBody (for the
	// emulator {"success":true,"result":{}}): an answer without the fields the client needs.
	Empty
	// Garbled applies the request, then sends its answer with the same status but the body
	// garbled as Fault.Garble says. Tests set it; the -fault syntax does not offer it.
	Garbled
)

// lateHoldCap bounds how long a Late holds a request whose client never gives up.
const lateHoldCap = 10 * time.Minute

var kindNames = map[Kind]string{
	Status:       "status",
	Drop:         "drop",
	LostResponse: "lost",
	Latency:      "latency",
	Late:         "late",
	Empty:        "empty",
	Garbled:      "garbled",
}

// String returns the kind's name as used in fault specs: status, drop, lost, latency, late or
// empty (or garbled).
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// The ways a Garbled fault garbles an answer's body.
const (
	GarbleCut   = "cut"   // the first half of the body
	GarbleNoID  = "no-id" // the JSON object without its "id"
	GarbleEmpty = "empty" // no body at all
)

// Fault describes an injected failure. See Parse for the compact text form. Fault is
// comparable.
type Fault struct {
	// Method is the HTTP method to match, upper case; "" matches any method.
	Method string
	// Path is the path pattern to match after the Injector's Prefix, e.g.
	// "/accounts/*/workers/workers/*/versions". A "*" segment matches exactly one segment; a
	// final "**" segment matches any rest, including nothing. "" matches every path.
	Path string
	// Times is how many matching requests the fault applies to; 0 means every one.
	Times int
	// Kind is what the fault does.
	Kind Kind
	// Status is the HTTP status of a Status answer, 400-599; anything else (such as 0)
	// means 500.
	Status int
	// Code is the API's error code in the answer's body, for an Injector whose error body
	// has one (the emulator's Cloudflare envelope); 0 lets it pick one from Status.
	Code int
	// Body, when set, is the body of a Status answer instead of the Injector's error body.
	Body string
	// RetryAfter, when set, is sent as the Retry-After header (seconds or an HTTP date).
	RetryAfter string
	// RetryAfterMs, when set, is sent as the Retry-After-Ms header (milliseconds).
	RetryAfterMs string
	// ShouldRetry, when set ("true" or "false"), is sent as the x-should-retry header, which
	// overrides the Cloudflare SDK's own retry decision (docs/workers-api.md §2.1).
	ShouldRetry string
	// Latency is how long a Latency waits before serving, or how long after the client
	// gave up a Late applies the request.
	Latency time.Duration
	// Garble is how a Garbled fault garbles the answer: GarbleCut, GarbleNoID or GarbleEmpty.
	Garble string
}

// HTTPStatus is the status a Status fault answers with: f.Status when it is 400-599, else 500.
func (f Fault) HTTPStatus() int {
	if f.Status < 400 || f.Status > 599 {
		return http.StatusInternalServerError
	}
	return f.Status
}

// Parse parses the compact fault syntax used by the -fault flag:
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
func Parse(spec string) (Fault, error) {
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
	for _, kv := range fields[1:] {
		k, v, found := strings.Cut(kv, "=")
		if !found || v == "" {
			return Fault{}, fmt.Errorf("failed to parse fault %q: %q is not key=value", spec, kv)
		}
		if seen[k] {
			return Fault{}, fmt.Errorf("failed to parse fault %q: key %q given twice", spec, k)
		}
		seen[k] = true
		key, ok := keyNamed(k)
		if !ok {
			return Fault{}, fmt.Errorf("failed to parse fault %q: unknown key %q (known: %s)", spec, k, keyNames())
		}
		if err := key.set(&f, v); err != nil {
			return Fault{}, fmt.Errorf("failed to parse fault %q: invalid %s %q: %w", spec, k, v, err)
		}
	}
	if !seen["kind"] {
		switch {
		case seen["status"]:
			f.Kind = Status
		case seen["latency"]:
			f.Kind = Latency
		default:
			return Fault{}, fmt.Errorf("failed to parse fault %q: say what to do with kind=status|drop|lost|latency|late|empty or status=N", spec)
		}
	}
	for _, key := range faultKeys {
		if seen[key.name] && key.kinds != nil && !slices.Contains(key.kinds, f.Kind) {
			return Fault{}, fmt.Errorf("failed to parse fault %q: key %q does not apply to kind %s", spec, key.name, f.Kind)
		}
	}
	for _, key := range faultKeys {
		if need, ok := key.neededBy[f.Kind]; ok && !seen[key.name] {
			return Fault{}, fmt.Errorf("failed to parse fault %q: kind %s needs %s", spec, f.Kind, need)
		}
	}
	return f, nil
}

// faultKey is one key of the fault syntax: what it sets, the kinds it applies to (nil: every
// kind) and the kinds that need it, with the hint their error gives.
type faultKey struct {
	name     string
	set      func(f *Fault, v string) error
	kinds    []Kind
	neededBy map[Kind]string
}

// faultKeys is the fault syntax's keys, in the order errors list them.
var faultKeys = []faultKey{
	{name: "kind", set: func(f *Fault, v string) (err error) { f.Kind, err = parseKind(v); return err }},
	{name: "status", set: func(f *Fault, v string) (err error) { f.Status, err = parseIntRange(v, 400, 599); return err },
		kinds: []Kind{Status}, neededBy: map[Kind]string{Status: "status=N (400-599)"}},
	{name: "code", set: func(f *Fault, v string) (err error) { f.Code, err = parseIntRange(v, 1, 1<<31-1); return err },
		kinds: []Kind{Status}},
	{name: "times", set: func(f *Fault, v string) (err error) { f.Times, err = parseIntRange(v, 0, 1<<31-1); return err }},
	{name: "retry-after", set: func(f *Fault, v string) (err error) { f.RetryAfter, err = parseHeaderValue(v); return err },
		kinds: []Kind{Status}},
	{name: "retry-after-ms", set: func(f *Fault, v string) (err error) { f.RetryAfterMs, err = parseHeaderValue(v); return err },
		kinds: []Kind{Status}},
	{name: "should-retry", set: func(f *Fault, v string) error {
		if v != "true" && v != "false" {
			return fmt.Errorf("want true or false")
		}
		f.ShouldRetry = v
		return nil
	}, kinds: []Kind{Status}},
	{name: "latency", set: func(f *Fault, v string) (err error) {
		f.Latency, err = time.ParseDuration(v)
		if err == nil && f.Latency <= 0 {
			err = fmt.Errorf("want a positive duration")
		}
		return err
	}, kinds: []Kind{Latency, Late}, neededBy: map[Kind]string{Latency: "latency=D, e.g. latency=2s", Late: "latency=D, e.g. latency=2s"}},
}

func keyNamed(name string) (faultKey, bool) {
	for _, k := range faultKeys {
		if k.name == name {
			return k, true
		}
	}
	return faultKey{}, false
}

func keyNames() string {
	names := make([]string, len(faultKeys))
	for i, k := range faultKeys {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

// String returns f in the syntax Parse reads.
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

func parseKind(v string) (Kind, error) {
	for k, n := range kindNames {
		if n == v && k != Garbled {
			return k, nil
		}
	}
	if v == "lost-response" {
		return LostResponse, nil
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
