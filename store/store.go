// Package store is desk's local SQLite store: a cache of the IMAP mailbox
// (tickets, messages, a full-text index), the durable outbox, the queue of
// keyword changes not yet pushed, and the sync cursors. It knows nothing of
// the network; the mail package fills it and the interface reads it.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

//go:embed migrations/*.sql
var migrations embed.FS

// timeLayout is fixed-width so that stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// ErrNotFound is returned when a ticket or row does not exist.
var ErrNotFound = errors.New("not found")

// Store is an open desk database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string

	mu          sync.Mutex
	stmts       map[string]*sql.Stmt // prepared once, see statement
	subscribers map[int]chan struct{}
	nextSub     int
	sets        setCache // the ticket sets of search terms, see query_set.go

	writer     chan *sql.Conn // holds the connection of every write transaction, see update
	checkpoint chan struct{}  // a write committed: copy the WAL into the file
	settle     chan struct{}  // writes paused: copy now, without waiting out the interval
	ckptEvery  time.Duration  // the least time between two background checkpoints
	stop       chan struct{}  // closed by Close
	stopped    chan struct{}  // closed when the checkpointer has returned
	closing    sync.Once
}

// walCheckpointPages is the WAL size (in pages) at which a commit copies
// the WAL into the database file itself. The checkpointer does that work
// in the background after writes (a sync's commits of half a second: a few
// thousand pages), so this bound only catches what a long run of writes
// leaves it behind (SQLite's default is 1,000 pages, a checkpoint with its
// fsync inside every sync batch's commit).
const walCheckpointPages = 16000

// checkpointInterval is the least time between two background checkpoints.
const checkpointInterval = 500 * time.Millisecond

// busyTimeout is how long a write waits for another one to finish.
const busyTimeout = 10 * time.Second

// writerCacheKiB is the page cache of the writing connection: it holds the
// pages a sync batch touches across batches.
const writerCacheKiB = 32 << 10

// Open opens (creating if needed, with mode 0600) the database at path and
// applies any pending migrations.
func Open(path string) (*Store, error) {
	return open(path, checkpointInterval)
}

// open opens the store with the given least time between background
// checkpoints (tests stretch it to see what Settle does).
func open(path string, ckptEvery time.Duration) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f.Close()
	dsn := "file:" + path + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)", busyTimeout.Milliseconds()) +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walCheckpointPages)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// Idle connections are kept for the parts of an index read and the
	// list's reads beside them (database/sql keeps two by default).
	db.SetMaxIdleConns(maxIndexParts + 2)
	s := &Store{db: db, path: path, stmts: map[string]*sql.Stmt{}, subscribers: map[int]chan struct{}{},
		writer: make(chan *sql.Conn, 1), checkpoint: make(chan struct{}, 1), settle: make(chan struct{}, 1), ckptEvery: ckptEvery, stop: make(chan struct{}), stopped: make(chan struct{})}
	if err := s.checkPragmas(); err != nil {
		db.Close()
		return nil, err
	}
	s.writer <- nil // opened by the first write
	if err := s.migrate(); err != nil {
		s.closeWriter()
		db.Close()
		return nil, err
	}
	for _, f := range []string{"", "-wal", "-shm"} {
		_ = os.Chmod(path+f, 0o600)
	}
	go s.checkpointer()
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.closing.Do(func() {
		close(s.stop)
		s.closeWriter()
	})
	<-s.stopped
	return s.db.Close()
}

// closeWriter closes the writing connection after the write transaction
// running on it, if any; later ones find none.
func (s *Store) closeWriter() {
	if w := <-s.writer; w != nil {
		w.Close()
	}
	close(s.writer)
}

// checkpointer copies committed pages from the WAL into the database file
// after writes, on a connection of its own, so that no writer waits for
// it. A PASSIVE checkpoint never blocks readers or writers; it copies what
// it can (a failure is left for the next one, or for the WAL bound).
//
// It runs at most once per checkpointInterval: a page that several
// commits in a row write (an index's, the full-text index's) is then copied
// once, not once per commit. Settle cuts that wait short.
func (s *Store) checkpointer() {
	defer close(s.stopped)
	for {
		select {
		case <-s.stop:
			return
		case <-s.settle:
			continue // nothing was committed since the last copy
		case <-s.checkpoint:
			_, _ = s.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
		select {
		case <-s.stop:
			return
		case <-s.settle:
		case <-time.After(s.ckptEvery):
		}
	}
}

// Settle tells the store that a run of writes is over (a sync pass has
// stored its mail): what they left in the WAL is copied into the database
// file now, in the background, instead of after the checkpoint interval.
// Whoever writes next or closes the store then finds that work done; a
// store closed right after a sync would otherwise copy the whole pass
// and fsync it while the process waits to exit.
func (s *Store) Settle() {
	select {
	case s.settle <- struct{}{}:
	default: // one is pending already
	}
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// checkPragmas verifies the DSN took effect: the driver ignores unknown keys.
func (s *Store) checkPragmas() error {
	var mode string
	var fk int
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("store: cannot read %s: %w", s.path, err)
	}
	if err := s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !strings.EqualFold(mode, "wal") || fk != 1 {
		return fmt.Errorf("store: %s: journal_mode=%s foreign_keys=%d, want wal and 1", s.path, mode, fk)
	}
	return nil
}

// migrate applies the embedded numbered migrations that are newer than the
// database's user_version, all in one transaction.
func (s *Store) migrate() error {
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	// A store at the newest migration (every open but the first after an
	// upgrade) needs no write transaction: a read-only command such as
	// `desk search` neither writes nor waits for a running sync's lock.
	if len(entries) > 0 {
		newest, err := migrationNumber(entries[len(entries)-1].Name())
		if err != nil {
			return err
		}
		if current, err := s.SchemaVersion(); err == nil && current >= newest {
			return nil
		}
	}
	return s.update(context.Background(), func(tx *sql.Tx) error {
		var current int
		if err := tx.QueryRow("PRAGMA user_version").Scan(&current); err != nil {
			return err
		}
		latest := current
		for _, e := range entries {
			n, err := migrationNumber(e.Name())
			if err != nil {
				return err
			}
			if n <= current {
				continue
			}
			body, err := migrations.ReadFile("migrations/" + e.Name())
			if err != nil {
				return err
			}
			if _, err := tx.Exec(string(body)); err != nil {
				return fmt.Errorf("store: migration %s: %w", e.Name(), err)
			}
			latest = n
		}
		if latest > current {
			_, err = tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", latest))
		}
		return err
	})
}

// migrationNumber is the number a migration file's name starts with.
func migrationNumber(name string) (int, error) {
	n, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
	if err != nil {
		return 0, fmt.Errorf("store: bad migration name %q", name)
	}
	return n, nil
}

// SchemaVersion reports the applied migration number.
func (s *Store) SchemaVersion() (int, error) {
	var v int
	err := s.db.QueryRow("PRAGMA user_version").Scan(&v)
	return v, err
}

// update runs fn in one write transaction, committing if it returns nil.
// Every write transaction of the store runs on the same connection, one at
// a time: SQLite admits one writer anyway, and a connection keeps its page
// cache only while no other one writes (a sync batch on another pooled
// connection than the last one read every page it touched again).
func (s *Store) update(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var w *sql.Conn
	select {
	case held, open := <-s.writer:
		if !open {
			return errors.New("store: begin: the store is closed")
		}
		w = held
	case <-ctx.Done():
		return fmt.Errorf("store: begin: %w", ctx.Err())
	case <-time.After(busyTimeout):
		return errors.New("store: begin: another write transaction of this process is still running")
	}
	defer func() { s.writer <- w }()
	if w == nil {
		var err error
		if w, err = s.openWriter(ctx); err != nil {
			return err
		}
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		// The next write opens another connection: this one may be broken.
		w.Close()
		w = nil
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	select {
	case s.checkpoint <- struct{}{}:
	default: // one is due already
	}
	return nil
}

// openWriter opens the connection that write transactions run on, with a
// page cache of writerCacheKiB.
func (s *Store) openWriter(ctx context.Context) (*sql.Conn, error) {
	w, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	if _, err := w.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", writerCacheKiB)); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return w, nil
}

// Subscribe returns a channel that receives a value (coalesced) whenever
// local work is queued: a reply, a note, a state change. Sync workers use it
// to wake up. Call cancel when done.
func (s *Store) Subscribe() (ch <-chan struct{}, cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextSub
	s.nextSub++
	c := make(chan struct{}, 1)
	s.subscribers[id] = c
	return c, func() {
		s.mu.Lock()
		delete(s.subscribers, id)
		s.mu.Unlock()
	}
}

// wake tells every subscriber that work was queued.
func (s *Store) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.subscribers {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
