package tui

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
)

// Contexts of the interface, each with its own bindings: a key remapped
// in one context keeps its default meaning in the others.
const (
	ctxList    = "list"    // the ticket list (and its marked state)
	ctxThread  = "thread"  // an open ticket
	ctxCompose = "compose" // the inline composer
	ctxConfirm = "confirm" // "Discard draft? (y/N)"
	ctxPrompt  = "prompt"  // a query or command being typed
	ctxSearch  = "search"  // full-text search
)

// contextActions are the actions live in each context, named as in the
// config (the KeyMap field in snake_case). No key may serve two of them.
var contextActions = map[string][]string{
	ctxList: {"up", "down", "page_up", "page_down", "top", "bottom", "open", "next_section", "prev_section",
		"edit_query", "search", "reply", "note", "status", "assign", "labels", "spam", "toggle", "undo",
		"mark", "mark_range", "mark_query", "preview", "preview_more", "preview_less", "macro", "help", "command", "back", "quit"},
	ctxThread: {"up", "down", "page_up", "page_down", "half_page_up", "half_page_down", "top", "bottom",
		"reply", "note", "status", "assign", "labels", "spam", "toggle", "undo", "history", "save", "fold",
		"search", "macro", "help", "command", "back", "quit"},
	ctxCompose: {"send", "toggle_kind", "editor", "macro", "cancel", "quit"},
	ctxConfirm: {"discard", "keep", "quit"},
	ctxPrompt:  {"run_search", "complete", "cancel", "quit"},
	ctxSearch:  {"up", "down", "page_up", "page_down", "top", "bottom", "open", "search", "help", "back", "quit"},
}

// contextDefaults are defaults that differ from DefaultKeyMap in one
// context: in the composer a letter is text, so macros are on ctrl+o.
var contextDefaults = map[string]map[string][]string{
	ctxCompose: {"macro": {"ctrl+o"}},
}

// Remap binds an action of a context to keys (a [keys.CONTEXT] line of the
// config).
type Remap struct {
	Context string
	Action  string
	Keys    []string
	Line    int // the config line, for errors
}

// KeyError is a key remap or custom command the interface refuses, at a
// line of the config.
type KeyError struct {
	Line int
	Key  string // the config key: "keys.list.reply", "commands"
	Msg  string
}

func (e *KeyError) Error() string { return fmt.Sprintf("line %d: %s: %s", e.Line, e.Key, e.Msg) }

// Keys are the bindings of every context and the custom commands, built
// once from the config: the one registry that key handling, the hint line,
// the ? overlay and the : command line read.
type Keys struct {
	maps     map[string]KeyMap
	commands []Command
}

// actionField finds the KeyMap field of an action name ("next_section" is
// NextSection).
func actionField(km *KeyMap, action string) (*key.Binding, bool) {
	v := reflect.ValueOf(km).Elem()
	for i := range v.NumField() {
		if snake(v.Type().Field(i).Name) == action {
			return v.Field(i).Addr().Interface().(*key.Binding), true
		}
	}
	return nil, false
}

// snake is a Go name in snake_case: NextSection is next_section.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NewKeys applies remaps and custom commands to the default bindings. It
// refuses an unknown context or action, an empty key, and a key bound to
// two things in one context.
func NewKeys(remaps []Remap, commands []Command) (*Keys, error) {
	ks := &Keys{maps: map[string]KeyMap{}, commands: commands}
	for _, c := range commands {
		if c.Key == "" || strings.Contains(c.Key, " ") {
			return nil, &KeyError{Line: c.Line, Key: "commands.key", Msg: fmt.Sprintf("%q is not a key", c.Key)}
		}
		if _, err := c.script(); err != nil {
			return nil, &KeyError{Line: c.Line, Key: "commands.run", Msg: err.Error()}
		}
	}
	for _, r := range remaps {
		if _, ok := contextActions[r.Context]; !ok {
			return nil, &KeyError{Line: r.Line, Key: "keys." + r.Context, Msg: fmt.Sprintf("unknown context %q (contexts: %s)",
				r.Context, strings.Join(contextNames(), ", "))}
		}
	}
	remapped := map[string]Remap{} // context/action → its remap
	for _, ctx := range contextNames() {
		actions := contextActions[ctx]
		km := DefaultKeyMap()
		for action, keys := range contextDefaults[ctx] {
			b, _ := actionField(&km, action)
			setKeys(b, keys)
		}
		for _, r := range remaps {
			if r.Context != ctx {
				continue
			}
			where := "keys." + r.Context + "." + r.Action
			if !slices.Contains(actions, r.Action) {
				return nil, &KeyError{Line: r.Line, Key: where, Msg: fmt.Sprintf("unknown action %q in %s%s (actions: %s)",
					r.Action, ctx, didYouMean(r.Action, actions), strings.Join(actions, ", "))}
			}
			for _, k := range r.Keys {
				if strings.TrimSpace(k) == "" || strings.Contains(k, " ") {
					return nil, &KeyError{Line: r.Line, Key: where, Msg: fmt.Sprintf("%q is not a key: want a name like \"R\", \"ctrl+r\", \"enter\"", k)}
				}
			}
			b, _ := actionField(&km, r.Action)
			setKeys(b, r.Keys)
			remapped[ctx+"/"+r.Action] = r
		}
		ks.maps[ctx] = km
	}
	if err := ks.checkDuplicates(remapped); err != nil {
		return nil, err
	}
	return ks, nil
}

// setKeys rebinds b to keys, its help showing them.
func setKeys(b *key.Binding, keys []string) {
	desc := b.Help().Desc
	b.SetKeys(keys...)
	b.SetHelp(strings.Join(keys, "/"), desc)
}

// checkDuplicates refuses a key bound to two actions (or an action and a
// custom command) in one context, naming the line that caused it.
func (ks *Keys) checkDuplicates(remapped map[string]Remap) error {
	for _, ctx := range contextNames() {
		km := ks.maps[ctx]
		owner := map[string]string{} // key → action
		blame := func(k, a, b string) error {
			line, where := 0, "keys."+ctx
			for _, act := range []string{a, b} {
				if r, ok := remapped[ctx+"/"+act]; ok && r.Line >= line {
					line, where = r.Line, "keys."+ctx+"."+act
				}
			}
			return &KeyError{Line: line, Key: where, Msg: fmt.Sprintf("key %q is bound to both %s and %s in %s", k, a, b, ctx)}
		}
		for _, action := range contextActions[ctx] {
			b, _ := actionField(&km, action)
			for _, k := range b.Keys() {
				if prev, ok := owner[k]; ok && prev != action {
					return blame(k, prev, action)
				}
				owner[k] = action
			}
		}
		if ctx != ctxList && ctx != ctxThread {
			continue
		}
		for _, c := range ks.commands {
			if prev, ok := owner[c.Key]; ok {
				msg := fmt.Sprintf("key %q of command %q is bound to %s in %s", c.Key, c.Name, strings.TrimPrefix(prev, "command "), ctx)
				if r, ok := remapped[ctx+"/"+prev]; ok && r.Line > c.Line {
					return &KeyError{Line: r.Line, Key: "keys." + ctx + "." + prev, Msg: msg}
				}
				return &KeyError{Line: c.Line, Key: "commands", Msg: msg}
			}
			owner[c.Key] = "command " + c.Name
		}
	}
	return nil
}

// contextNames are the contexts, sorted.
func contextNames() []string {
	names := make([]string, 0, len(contextActions))
	for ctx := range contextActions {
		names = append(names, ctx)
	}
	sort.Strings(names)
	return names
}

// didYouMean is a hint naming the known word that w matches best as a
// fuzzy pattern, or "".
func didYouMean(w string, known []string) string {
	best, bestScore := "", -1
	for _, k := range known {
		if s, ok := fuzzyScore(w, k); ok && (bestScore < 0 || s < bestScore) {
			best, bestScore = k, s
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// of is the bindings of a context.
func (ks *Keys) of(ctx string) KeyMap { return ks.maps[ctx] }

// context is the context that has the focus.
func (m *model) context() string {
	switch {
	case m.prompt != nil:
		return ctxPrompt
	case m.compose != nil && m.compose.confirm:
		return ctxConfirm
	case m.compose != nil:
		return ctxCompose
	case m.screen == screenThread:
		return ctxThread
	case m.screen == screenSearch:
		return ctxSearch
	}
	return ctxList
}

// syncKeys makes m.keys the bindings of the context with the focus.
func (m *model) syncKeys() { m.keys = m.keyset.of(m.context()) }
