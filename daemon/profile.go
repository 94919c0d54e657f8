package daemon

import (
	"fmt"
	"sort"

	"github.com/idreader/idreader/policy"
	"github.com/idreader/idreader/terminal"
)

// RequestFor returns the request side of an acceptance profile: its doc
// types and elements, with their IntentToRetain (ISO/IEC 18013-5 clause
// 8.3.2.1.2.1).
func RequestFor(p *policy.Profile) terminal.RequestProfile {
	return terminal.RequestProfile{Name: p.Name, Requests: p.ItemsRequests()}
}

// builtinRequests are the request profiles `idreader read --profile` knows:
// default (terminal.DefaultRequestProfile) and the request sides of the
// acceptance profiles of policy.Builtin (age-20, age-21, identity).
var builtinRequests = map[string]func() terminal.RequestProfile{
	"default":  terminal.DefaultRequestProfile,
	"age-20":   builtinRequest("age-20"),
	"age-21":   builtinRequest("age-21"),
	"identity": builtinRequest("identity"),
}

// builtinRequest is the request side of the built-in acceptance profile name.
func builtinRequest(name string) func() terminal.RequestProfile {
	return func() terminal.RequestProfile { return RequestFor(policy.Builtin()[name]) }
}

// LookupRequestProfile returns a built-in request profile by name (""
// means "default").
func LookupRequestProfile(name string) (terminal.RequestProfile, error) {
	if name == "" {
		name = "default"
	}
	f, ok := builtinRequests[name]
	if !ok {
		return terminal.RequestProfile{}, fmt.Errorf("daemon: unknown profile %q (known: %v)", name, RequestProfileNames())
	}
	return f(), nil
}

// RequestProfileNames lists the built-in request profiles, sorted.
func RequestProfileNames() []string {
	names := make([]string, 0, len(builtinRequests))
	for n := range builtinRequests {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
