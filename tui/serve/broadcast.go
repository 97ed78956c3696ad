package serve

import (
	"log/slog"
	"sort"
	"sync"

	tea "charm.land/bubbletea/v2"

	"desk/tui"
)

// queueLen bounds the events waiting for one session; a session that far
// behind drops events (it re-reads the store on the next one anyway).
const queueLen = 64

// Broadcaster hands every event to every registered program. Each program
// has its own queue and goroutine, so a slow or stuck session never blocks
// the sync service or the other sessions.
type Broadcaster struct {
	log  *slog.Logger
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	p    *tea.Program
	q    chan tea.Msg
	done chan struct{}
}

// NewBroadcaster makes an empty broadcaster.
func NewBroadcaster(log *slog.Logger) *Broadcaster {
	return &Broadcaster{log: log, subs: map[*subscriber]struct{}{}}
}

// Register adds p; the returned function removes it (call it once the
// program has ended; calling it again does nothing).
func (b *Broadcaster) Register(p *tea.Program) (unregister func()) {
	s := &subscriber{p: p, q: make(chan tea.Msg, queueLen), done: make(chan struct{})}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		for {
			select {
			case <-s.done:
				return
			case msg := <-s.q:
				p.Send(msg)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			close(s.done)
		})
	}
}

// Send queues msg for every program; it never blocks.
func (b *Broadcaster) Send(msg tea.Msg) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.q <- msg:
		default:
			b.log.Warn("serve: session too far behind, event dropped", "event", msg)
		}
	}
}

// Len is the number of registered programs.
func (b *Broadcaster) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Hub tracks which ticket every session shows, for presence.
type Hub struct {
	events *Broadcaster
	mu     sync.Mutex
	seats  map[*Seat]struct{}
}

// NewHub makes a presence hub that announces changes through events.
func NewHub(events *Broadcaster) *Hub {
	return &Hub{events: events, seats: map[*Seat]struct{}{}}
}

// Join seats a session of the named staff member.
func (h *Hub) Join(name string) *Seat {
	s := &Seat{hub: h, name: name}
	h.mu.Lock()
	h.seats[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Seat is one session's presence; it implements tui.Presence.
type Seat struct {
	hub     *Hub
	name    string
	onLeave func()

	// guarded by hub.mu
	account  string
	number   int64
	replying bool
}

var _ tui.Presence = (*Seat)(nil)

// Focus records what the session shows and tells the others.
func (s *Seat) Focus(account string, number int64, replying bool) {
	s.hub.mu.Lock()
	s.account, s.number, s.replying = account, number, replying
	s.hub.mu.Unlock()
	s.hub.events.Send(tui.PresenceChanged{})
}

// Others lists the other sessions on a ticket, sorted by name.
func (s *Seat) Others(account string, number int64) []string {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	var out []string
	for o := range s.hub.seats {
		if o == s || o.number != number || o.account != account {
			continue
		}
		doing := "viewing"
		if o.replying {
			doing = "replying"
		}
		out = append(out, o.name+" "+doing)
	}
	sort.Strings(out)
	return out
}

// Leave removes the session and unregisters its program.
func (s *Seat) Leave() {
	s.hub.mu.Lock()
	delete(s.hub.seats, s)
	s.hub.mu.Unlock()
	if s.onLeave != nil {
		s.onLeave()
	}
	s.hub.events.Send(tui.PresenceChanged{})
}
