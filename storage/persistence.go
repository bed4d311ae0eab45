package storage

// Persistence is optionally implemented by a TokenStorage to say whether its data
// outlives the process. A backend that survives restarts or is shared between
// processes reports true; New refuses generated keys for such backends (S15),
// because values sealed under a key that dies with the process would be unreadable
// by the next process or by its peers.
type Persistence interface {
	Persistent() bool
}
