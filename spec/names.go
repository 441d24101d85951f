package spec

// ValidUsername reports whether s is a username under NAME-1: 1 to 32
// ASCII letters, digits, '_' or '-'.
func ValidUsername(s string) bool {
	return len(s) >= 1 && len(s) <= MaxNameLen && allNameChars(s)
}

// ValidRoom reports whether s is a room name under NAME-2: '#' followed by
// 1 to 31 name characters.
func ValidRoom(s string) bool {
	return len(s) >= 2 && len(s) <= MaxRoomLen && s[0] == '#' && allNameChars(s[1:])
}

func allNameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

func isNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// Fold returns the key under which a name is compared (NAME-3): its ASCII
// letters in lower case. Two names denote the same user or room exactly when
// their folds are equal.
func Fold(name string) string {
	for i := 0; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			b := []byte(name)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return name
}
