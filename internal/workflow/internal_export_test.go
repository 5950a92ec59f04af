package workflow

// SetSearchWalkFrom sets the number of matches from which this service's
// PostgreSQL search pages walk the cases, and returns a function restoring
// the default.
func (s *Service) SetSearchWalkFrom(n int) func() {
	s.walkFrom = n
	return func() { s.walkFrom = 0 }
}

// SetSearchWalkWindow sets how many cases such a walk reads at most, and
// returns a function restoring the default.
func (s *Service) SetSearchWalkWindow(n int) func() {
	s.walkWindow = n
	return func() { s.walkWindow = 0 }
}

// SetUpdatesChunk sets how many events one query of the updates feed
// reads, and returns a function restoring the default.
func SetUpdatesChunk(n int) func() {
	was := updatesChunk
	updatesChunk = n
	return func() { updatesChunk = was }
}
