// Package faultinject is the one fault model of the project's test doubles: the Cloudflare
// API emulator and the GitHub fake of the end-to-end tests. A Fault says which requests it
// matches (method, path pattern, how many times) and what it does to them (an error status,
// a dropped connection, a lost or late-applied write, an empty or garbled answer, latency);
// an Injector holds the faults and applies them in front of an http.Handler.
//
// It is a test-double layer: it imports only the standard library, and only the emulator
// and tests import it.
package faultinject
