package turn

import (
	"io"
	"sync"
)

// closerSet remembers open connections so that shutting down can end them: Pion's
// Server.Close closes only its listeners, and leaves UDP allocations to expire.
type closerSet[C interface {
	comparable
	io.Closer
}] struct {
	mu     sync.Mutex // guards set and closed
	set    map[C]struct{}
	closed bool
}

// add remembers c; it reports false once closeAll has run (the caller closes c).
func (s *closerSet[C]) add(c C) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.set == nil {
		s.set = map[C]struct{}{}
	}
	s.set[c] = struct{}{}
	return true
}

func (s *closerSet[C]) forget(c C) {
	s.mu.Lock()
	delete(s.set, c)
	s.mu.Unlock()
}

// closeAll closes everything remembered and refuses what comes after.
func (s *closerSet[C]) closeAll() {
	s.mu.Lock()
	s.closed = true
	all := make([]C, 0, len(s.set))
	for c := range s.set {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		_ = c.Close()
	}
}

func (s *closerSet[C]) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.set)
}
