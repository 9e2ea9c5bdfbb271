// Package bindings parses the binding inputs of the action (`bindings`, `vars`,
// `secrets`), validates binding names, and merges bindings from several sources
// by name. Bindings are kept in the API's JSON format (docs/workers-api.md §6.3).
package bindings
