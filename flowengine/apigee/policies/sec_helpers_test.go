package policies

import (
	"encoding/base64"
	"fmt"
)

// secSprintf is fmt.Sprintf.
func secSprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// secB64 is standard base64.
func secB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
