package store

import "database/sql"

// maxCachedStatements bounds the statement cache; queries beyond it run
// unprepared (none of ours are built per call, so it is a safety net).
const maxCachedStatements = 256

// prepared returns the store's prepared statement for q, bound to the
// transaction. Ingesting a batch runs the same few statements thousands of
// times; preparing each anew was a third of a full sync's CPU.
func (t *Tx) prepared(q string) *sql.Stmt {
	if st, ok := t.stmts[q]; ok {
		return st
	}
	st := t.store.statement(q)
	if st == nil {
		return nil
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	bound := t.tx.Stmt(st)
	t.stmts[q] = bound
	return bound
}

// statement prepares q once per store (nil when the cache is full or the
// statement cannot be prepared: the caller then runs it directly and gets
// the error there).
func (s *Store) statement(q string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stmts[q]; ok {
		return st
	}
	if len(s.stmts) >= maxCachedStatements {
		return nil
	}
	st, err := s.db.Prepare(q)
	if err != nil {
		return nil
	}
	s.stmts[q] = st
	return st
}

// exec runs a statement in the transaction.
func (t *Tx) exec(q string, args ...any) (sql.Result, error) {
	if st := t.prepared(q); st != nil {
		return st.Exec(args...)
	}
	return t.tx.Exec(q, args...)
}

// queryRow runs a one-row query in the transaction.
func (t *Tx) queryRow(q string, args ...any) *sql.Row {
	if st := t.prepared(q); st != nil {
		return st.QueryRow(args...)
	}
	return t.tx.QueryRow(q, args...)
}

// query runs a query in the transaction.
func (t *Tx) query(q string, args ...any) (*sql.Rows, error) {
	if st := t.prepared(q); st != nil {
		return st.Query(args...)
	}
	return t.tx.Query(q, args...)
}
