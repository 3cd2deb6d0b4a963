package threading

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// ThreadIndexRoot returns the conversation root of an Outlook Thread-Index
// header: the first 22 bytes of its base64-decoded value, hex-encoded. Replies
// in one Outlook conversation share it even when References were stripped.
func ThreadIndexRoot(v string) (string, bool) {
	v = strings.Join(strings.Fields(v), "")
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
	}
	if err != nil || len(b) < 22 {
		return "", false
	}
	return hex.EncodeToString(b[:22]), true
}
