// Package config reads idreaderd's configuration: one YAML file, documented
// by the commented example deploy/idreaderd.example.yaml. The file is
// decoded through yaml.Node so that every error names the file, the line and
// the key, e.g.
//
//	idreaderd.yaml:14: readers[0].profile: unknown profile "age20"
//
// Load validates everything it can at start: unknown keys, bad durations
// and enumerations, references to unknown profiles, identities and outputs,
// and files that do not exist. Settings then loads the trust anchors and
// reader identities and turns the profiles into the daemon's settings.
package config
