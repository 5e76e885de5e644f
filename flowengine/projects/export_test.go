package projects

// EntryByName exposes a Set's entry by name to the external tests.
func EntryByName(s *Set, name string) *Entry { return s.byName[name] }
