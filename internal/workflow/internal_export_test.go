package workflow

// SetSearchWalkFrom sets the number of matches from which this service's
// PostgreSQL search pages walk the cases, and returns a function restoring
// the default.
func (s *Service) SetSearchWalkFrom(n int) func() {
	s.walkFrom = n
	return func() { s.walkFrom = 0 }
}
