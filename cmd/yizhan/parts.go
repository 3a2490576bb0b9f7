package main

// mountParts wires the parts above signaling: the web app, mediation, recording.
func (a *app) mountParts() error {
	return nil
}
