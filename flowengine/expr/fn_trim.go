package expr

import "strings"

// trim(s) strips spaces, newlines, carriage returns, tabs and vertical tabs
// from both ends of s.
func init() {
	Register(stringFunc("trim", func(s string) string { return strings.Trim(s, " \n\r\t\v") }))
}
