package emulator

import "net/http"

// getAccountSubdomain is AS-G: GET /accounts/{a}/workers/subdomain → {subdomain}.
func (s *Server) getAccountSubdomain(rc *reqCtx) *reply {
	if s.subdomain == "" {
		// An account without a workers.dev subdomain: wrangler treats code 10007 from this
		// endpoint as "no subdomain registered yet", so that is what the emulator answers.
		return fail(http.StatusNotFound, 10007, "This account does not have a workers.dev subdomain")
	}
	return ok(map[string]string{"subdomain": s.subdomain})
}

// getScriptSubdomain is S-G: the Worker's {enabled, previews_enabled}.
func (s *Server) getScriptSubdomain(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupScript(rc)
	if rep != nil {
		return rep
	}
	return ok(w.subdomain)
}

// setScriptSubdomain is S-P: POST {enabled, previews_enabled?}.
func (s *Server) setScriptSubdomain(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupScript(rc)
	if rep != nil {
		return rep
	}
	var in subdomainInput
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	if in.Enabled == nil {
		return validationError("enabled is required")
	}
	w.subdomain.Enabled = *in.Enabled
	// An omitted previews_enabled keeps its current value (inferred; undocumented).
	if in.PreviewsEnabled != nil {
		w.subdomain.PreviewsEnabled = *in.PreviewsEnabled
	}
	w.updatedOn = s.now()
	return ok(w.subdomain)
}

// deleteScriptSubdomain is S-D: it disables both the workers.dev route and preview URLs.
func (s *Server) deleteScriptSubdomain(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupScript(rc)
	if rep != nil {
		return rep
	}
	w.subdomain = SubdomainSettings{}
	w.updatedOn = s.now()
	return ok(w.subdomain)
}
