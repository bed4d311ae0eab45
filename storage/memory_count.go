package storage

// counted records a new entry under key in the count of its namespace. key must
// be the entry's own (cloned) key: the counts map may keep a slice of it. The
// caller holds s.mu.
func (s *shard) counted(key string) {
	if ns := NamespaceOf(key); ns != "" {
		s.counts[ns]++
	}
}

// uncounted records that the entry under key has left the shard. The caller
// holds s.mu.
func (s *shard) uncounted(key string) {
	ns := NamespaceOf(key)
	if ns == "" {
		return
	}
	if n := s.counts[ns] - 1; n > 0 {
		s.counts[ns] = n
	} else {
		delete(s.counts, ns)
	}
}
