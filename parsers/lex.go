package parsers

// IsDigits reports whether s is a non-empty run of ASCII digits: the check
// every grammar makes of uids, pids, sizes and counters before converting
// them.
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
