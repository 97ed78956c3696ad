package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"desk/store"
)

// Service runs the sync and send workers of every account over one store.
type Service struct {
	st       *store.Store
	accounts []*Account
	notify   func(any)
	log      *slog.Logger
	timing   Timing
}

// NewService prepares workers for accounts. notify receives the events of
// package store (it may be nil); log may be nil.
func NewService(st *store.Store, accounts []*Account, notify func(any), log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{st: st, accounts: accounts, notify: notify, log: log, timing: Timing{}.withDefaults()}
}

// SetTiming changes the workers' intervals (zero fields keep their
// defaults). Call it before SyncOnce or Run.
func (s *Service) SetTiming(t Timing) { s.timing = t.withDefaults() }

func (s *Service) emit(ev any) {
	if s.notify != nil {
		s.notify(ev)
	}
}

// emitOutbox reports the outbox counts.
func (s *Service) emitOutbox(ctx context.Context) {
	queued, failed, err := s.st.OutboxCounts(ctx)
	if err == nil {
		s.emit(store.OutboxChanged{Queued: queued, Failed: failed})
	}
}

func (s *Service) newWorker(ctx context.Context, a *Account) (*worker, error) {
	row, err := s.st.EnsureAccount(ctx, a.Name, a.Address, a.Mailbox)
	if err != nil {
		return nil, err
	}
	return &worker{svc: s, acct: a, row: row, log: s.log, timing: s.timing, updates: make(chan struct{}, 1)}, nil
}

// SyncOnce syncs every account, concurrently, and flushes the outbox once,
// then returns; the error names every account that failed.
func (s *Service) SyncOnce(ctx context.Context) error {
	if _, err := s.st.RecoverSending(ctx); err != nil {
		return err
	}
	errs := make([]error, len(s.accounts))
	var wg sync.WaitGroup
	for i, a := range s.accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := s.newWorker(ctx, a)
			if err == nil {
				err = w.session(ctx, true)
			}
			if err != nil {
				errs[i] = fmt.Errorf("account %s: %w", a.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Run keeps every account in sync until ctx ends: one goroutine per
// account, IDLE-driven, reconnecting with capped backoff. One failing
// account never stalls the others.
func (s *Service) Run(ctx context.Context) {
	if n, err := s.st.RecoverSending(ctx); err != nil {
		s.log.Error("outbox recovery", "err", err)
	} else if n > 0 {
		s.log.Info("requeued mail left sending by a crash", "count", n)
	}
	s.emitOutbox(ctx)
	var wg sync.WaitGroup
	for _, a := range s.accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runAccount(ctx, a)
		}()
	}
	wg.Wait()
}

// runAccount is one account's worker loop.
func (s *Service) runAccount(ctx context.Context, a *Account) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("sync worker crashed", "account", a.Name, "panic", r, "stack", string(debug.Stack()))
			s.emit(store.SyncStatus{Account: a.Name, Phase: store.PhaseOffline, Err: fmt.Sprintf("internal error: %v", r)})
		}
	}()
	wake, cancel := s.st.Subscribe()
	defer cancel()
	backoff := s.timing.FirstBackoff
	for ctx.Err() == nil {
		w, err := s.newWorker(ctx, a)
		if err == nil {
			w.wake = wake
			start := time.Now()
			err = w.session(ctx, false)
			if time.Since(start) > time.Minute {
				backoff = s.timing.FirstBackoff
			}
			if err != nil && ctx.Err() == nil && w.row != nil {
				// IMAP is down: staff replies may still leave by SMTP.
				_ = w.flushOutbox(ctx, nil)
			}
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrLoginRefused) {
			s.log.Error("sync stopped: login refused", "account", a.Name, "err", err)
			s.emit(store.SyncStatus{Account: a.Name, Phase: store.PhaseStopped, Err: oneLineError(err)})
			return
		}
		retry := time.Now().Add(backoff)
		s.log.Warn("sync failed", "account", a.Name, "err", err, "retry_in", backoff)
		s.emit(store.SyncStatus{Account: a.Name, Phase: store.PhaseOffline, Err: oneLineError(err), RetryAt: retry})
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, s.timing.MaxBackoff)
	}
}
