// Package weaklinks holds the impaired-link tests of the SFU (issue 13): a real
// subscriber in its own network namespace behind a shaped link (package
// netlab), a publisher and the server on the host. The subscriber is a Go SDK
// client (weaklinks_test.go) or, in the browser cases, Chromium running the
// web app (browser_test.go). It has no code of its own. `make test-weaklinks`
// runs every case; `go test` alone runs the quick one;
// YIZHAN_WEAKLINKS=name,name runs the cases named.
package weaklinks
