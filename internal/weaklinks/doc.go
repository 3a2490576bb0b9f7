// Package weaklinks holds the impaired-link tests of the SFU (issue 13): a real
// Go SDK subscriber in its own network namespace behind a shaped link (package
// netlab), a publisher and the server on the host. It has no code of its own;
// see weaklinks_test.go. `make test-weaklinks` runs every case; `go test`
// alone runs the quick one.
package weaklinks
