// Package e2e holds the browser tests of the web app: real headless Chromium with a fake
// camera and microphone, against an in-process server (signaling, media, mediation).
// It has no code of its own; see the _test.go files. Screenshots go to web/e2e/screenshots/.
package e2e
