package password

import (
	_ "embed" // for the common-password list
	"strings"
	"sync"
)

// commonList is the block_common list: lower-cased, one per line, most
// common first. COMMON-PASSWORDS-SOURCE.md gives its source and licence;
// scripts/gen-common-passwords.sh (make common-passwords) regenerates it.
//
//go:embed common-passwords.txt
var commonList string

// common is the list as a set, built on first use: about 49,000 entries,
// whose keys share the embedded text rather than copy it.
var common = sync.OnceValue(func() map[string]struct{} { return commonSet(commonList) })

func commonSet(list string) map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(list, "\n")+1)
	for line := range strings.Lines(list) {
		if line = strings.TrimSuffix(line, "\n"); line != "" {
			set[line] = struct{}{}
		}
	}
	return set
}

// isCommon reports whether lower, a lower-cased NFKC password, is on the
// common list, as is or without surrounding spaces.
func isCommon(lower string) bool {
	set := common()
	if _, ok := set[lower]; ok {
		return true
	}
	if t := strings.TrimSpace(lower); t != lower {
		_, ok := set[t]
		return ok
	}
	return false
}
