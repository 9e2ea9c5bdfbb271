// Package comment keeps one sticky pull-request comment per Worker: it renders
// the run's report (the same content as the job summary) under a hidden
// marker that names the Worker, finds the comment the token's own identity
// wrote earlier by that marker, and edits it in place or creates it.
package comment
