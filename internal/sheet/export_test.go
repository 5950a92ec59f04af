package sheet

// SetMaxRows makes sheets hold n rows, for a test of the rollover.
func SetMaxRows(n int) (restore func()) {
	old := maxRows
	maxRows = n
	return func() { maxRows = old }
}
