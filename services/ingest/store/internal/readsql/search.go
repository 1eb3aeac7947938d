package readsql

import (
	"strings"
	"unicode/utf8"

	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// SearchIndexMinChars is the shortest text a trigram index can find: a shorter one holds
// no trigram.
const SearchIndexMinChars = 3

// WithSearchIndex has the builds search narrow the specs, build environments and CDash
// builds it reads to the rows a trigram index finds for texts of SearchIndexMinChars
// characters or more: in(table, alias, param) is the condition that row alias of table is
// one the index finds for the argument of param, which match gives from the searched text.
// The LIKE conditions still decide which of those rows match, so that the index may find
// more than they do (a wider case folding) but never fewer.
func (s *SQL) WithSearchIndex(in func(table, alias, param string) string, match func(text string) any) *SQL {
	s.searchIn, s.searchMatch = in, match
	return s
}

// WithHashPrefix replaces the store's case-insensitive LIKE where the builds search matches
// a spec's full hash by its start (as hashes are quoted: Spack's /abc1234), not anywhere
// in it: match(column, param) is the condition that column starts with the searched text,
// ignoring case as the store's case-insensitive LIKE does, in a form an index serves, given
// param, whose argument arg makes from the text. The condition stands apart from the
// trigram index's narrowing (WithSearchIndex), so that the index need not hold the hashes.
func (s *SQL) WithHashPrefix(match func(column, param string) string, arg func(text string) any) *SQL {
	s.hashPrefix, s.hashArg = match, arg
	return s
}

// addTextMatch adds the condition that a build matches the search text.
func (s *SQL) addTextMatch(w *where, text string) {
	pattern := w.arg(rows.Contains(text))
	narrow := func(string, string) string { return "" }
	if s.searchIn != nil && indexable(text) {
		match := w.arg(s.searchMatch(text))
		narrow = func(table, alias string) string { return s.searchIn(table, alias, match) + " AND " }
	}
	hash := s.hashPrefix("ts.full_hash", w.arg(s.hashArg(text)))
	w.conds = append(w.conds, s.textMatch(pattern, hash, narrow))
}

// indexable is whether a trigram index can find text: long enough, and nothing that its
// query would not take literally (invalid UTF-8, or a NUL, which ends FTS5's query text).
func indexable(text string) bool {
	return utf8.ValidString(text) && !strings.ContainsRune(text, 0) && utf8.RuneCountInString(text) >= SearchIndexMinChars
}

// FTS5Phrase is text as an FTS5 query of one phrase: a string, in which no character is
// query syntax but the double quote, doubled.
func FTS5Phrase(text string) string {
	return `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
}
