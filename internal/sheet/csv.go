package sheet

import "strings"

// formulaStart are the first characters that make a spreadsheet read a
// CSV cell as a formula (= + - @, and tab or carriage return, which some
// read past).
const formulaStart = "=+-@\t\r"

// SafeCSV keeps a spreadsheet from reading a cell of a CSV file as a
// formula (a description or a note that starts with = + - @): such a
// cell gets a leading apostrophe, which Excel and WPS show as text. A
// plain number (-2, -0.5) is left as it is: it reads as the number. row
// is changed in place and returned. XLSX files write text cells and need
// none of this.
func SafeCSV(row []string) []string {
	for i, c := range row {
		if c != "" && strings.ContainsRune(formulaStart, rune(c[0])) && !plainNumber(c) || quoted(c) {
			row[i] = "'" + c // (quoted: a cell that would read as quoted, kept as it is)
		}
	}
	return row
}

// UnquoteCSV undoes SafeCSV on a cell read back from a CSV file (an
// exported registry edited and imported again): an apostrophe before a
// formula's first character goes.
func UnquoteCSV(cell string) string {
	if quoted(cell) {
		return cell[1:]
	}
	return cell
}

// quoted: an apostrophe before what SafeCSV would quote (apostrophes
// before a formula's first character, however many: counted in a loop, a
// cell of millions of them must not exhaust the stack).
func quoted(c string) bool {
	if len(c) < 2 || c[0] != '\'' {
		return false
	}
	rest := strings.TrimLeft(c, "'")
	return rest != "" && strings.ContainsRune(formulaStart, rune(rest[0]))
}

// plainNumber: an optional sign, digits, and at most one decimal point
// between digits.
func plainNumber(s string) bool {
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits++
		case s[i] == '.' && !dot && digits > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
