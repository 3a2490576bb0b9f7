package mediation

// The words of the domain, as the store and the wire spell them.

// Session states (store.Session.State).
const (
	sessionScheduled = "scheduled"
	sessionLive      = "live"
	sessionEnded     = "ended"
)

// Session kinds (store.Session.Kind).
const (
	kindMediation    = "mediation"
	kindReception    = "reception"
	kindConsultation = "consultation"
)

// jointSpace is where everyone admitted meets; "" is the lobby; any other space is a
// caucus.
const jointSpace = "joint"
