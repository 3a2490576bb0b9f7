// Package bench drives load scenarios against a yizhan server process and measures
// it: forwarded packets per second, loss, server CPU per forwarded packet (from
// /proc/<pid>/stat), added latency (send-time stamps in the payload), join to first
// frame, and RSS per participant. cmd/sfubench is its command line; README.md in this
// directory says how to run it and how to read the numbers.
//
// The server runs as a separate process, pinned to one core (taskset, GOMAXPROCS=1);
// the clients are LiveKit Go SDK clients (internal/lktest) in this process, on the
// other cores. Everything binds 127.0.0.1.
package bench
