package oxn

// validMaxDepth is the nesting depth beyond which Valid reports false:
// encoding/json's scanner gives up at the same depth, and Valid answers
// exactly as encoding/json.Valid does.
const validMaxDepth = 10000

// Valid reports whether data is one JSON value, with the verdict of
// encoding/json.Valid (FuzzValid compares the two): the grammar of RFC
// 8259, surrounding whitespace allowed, bytes that are not UTF-8 allowed
// inside strings, at most 10,000 levels of nesting. It builds nothing and
// allocates nothing for documents nested fewer than 64 levels deep, and
// scans several times faster than encoding/json's state machine, which
// matters for the check of every template's output.
func Valid(data []byte) bool {
	var stackBuf [64]byte
	stack := stackBuf[:0] // '{' or '[' per open container
	i := skipSpace(data, 0)
	for {
		// A value at data[i].
		if i >= len(data) {
			return false
		}
		switch c := data[i]; {
		case c == '{' || c == '[':
			if len(stack) >= validMaxDepth {
				return false
			}
			stack = append(stack, c)
			i = skipSpace(data, i+1)
			if i < len(data) && (c == '{' && data[i] == '}' || c == '[' && data[i] == ']') {
				stack = stack[:len(stack)-1]
				i++
				break // an empty container is a complete value
			}
			if c == '{' {
				if i = validKey(data, i); i < 0 {
					return false
				}
			}
			continue // its first value
		case c == '"':
			if i = validString(data, i); i < 0 {
				return false
			}
		case c == '-' || c >= '0' && c <= '9':
			if i = validNumber(data, i); i < 0 {
				return false
			}
		case c == 't':
			if i = validLiteral(data, i, "true"); i < 0 {
				return false
			}
		case c == 'f':
			if i = validLiteral(data, i, "false"); i < 0 {
				return false
			}
		case c == 'n':
			if i = validLiteral(data, i, "null"); i < 0 {
				return false
			}
		default:
			return false
		}
		// After a complete value: close containers, or go on to the
		// next member or item.
		for {
			i = skipSpace(data, i)
			if len(stack) == 0 {
				return i == len(data)
			}
			if i >= len(data) {
				return false
			}
			top := stack[len(stack)-1]
			c := data[i]
			if c == ',' {
				i = skipSpace(data, i+1)
				if top == '{' {
					if i = validKey(data, i); i < 0 {
						return false
					}
				}
				break
			}
			if top == '{' && c == '}' || top == '[' && c == ']' {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			return false
		}
	}
}

// skipSpace returns the index of the first byte at or after i that is
// not JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// validKey checks a member key and its colon at data[i] and returns the
// index of the member's value (-1 when invalid).
func validKey(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return -1
	}
	if i = validString(data, i); i < 0 {
		return -1
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return -1
	}
	return skipSpace(data, i+1)
}

// validString checks the string whose opening quote is data[i] and
// returns the index after its closing quote (-1 when invalid).
func validString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) {
					return -1
				}
				for _, h := range data[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validNumber checks the number at data[i] and returns the index after it
// (-1 when invalid).
func validNumber(data []byte, i int) int {
	end, why := scanNumber(data, i)
	if why != "" {
		return -1
	}
	return end
}

// validLiteral checks that lit is at data[i] and returns the index after
// it (-1 when not).
func validLiteral(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
