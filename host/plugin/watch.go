package plugin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/wshost/wshost/host"
)

// DefaultDebounce is how long a plugin's files must stay quiet before a
// reload, so that a file written in several steps loads once.
const DefaultDebounce = 100 * time.Millisecond

// pluginFile returns the plugin name a file in the plugins directory
// belongs to: NAME.wasm or NAME.toml with a valid NAME. Anything else
// (dotfiles, editor temp files) is ignored.
func pluginFile(path string) (string, bool) {
	base := filepath.Base(path)
	name, ok := strings.CutSuffix(base, ".wasm")
	if !ok {
		name, ok = strings.CutSuffix(base, ".toml")
	}
	return name, ok && host.ValidName(name)
}

// LoadDir installs every NAME.wasm in dir. A plugin that fails to load is
// logged and skipped; only an unreadable directory is an error.
func (p *Plugins) LoadDir(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("plugins directory: %w", err)
	}
	for _, e := range entries {
		if name, ok := pluginFile(e.Name()); ok && strings.HasSuffix(e.Name(), ".wasm") {
			p.sync(ctx, dir, name)
		}
	}
	return nil
}

// sync makes name serve what dir holds: install NAME.wasm (with NAME.toml),
// or remove the plugin when NAME.wasm is gone.
func (p *Plugins) sync(ctx context.Context, dir, name string) {
	wasm, err := os.ReadFile(filepath.Join(dir, name+".wasm"))
	if errors.Is(err, fs.ErrNotExist) {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			// The directory itself is gone (WatchDir waits for it to come
			// back): that is no deletion of the plugin, which keeps serving.
			return
		}
		if p.opts.Fallback != nil {
			if wasm, manifest, ok := p.opts.Fallback(name); ok {
				if err := p.Install(ctx, name, wasm, manifest); err != nil {
					p.log.Warn("plugin file deleted and its fallback refused; the last good version keeps serving", "plugin", name, "err", err)
				}
				return
			}
		}
		if p.Engine(name) != nil {
			p.Remove(name)
		}
		return
	}
	if err != nil {
		p.log.Warn("read plugin", "plugin", name, "err", err)
		return
	}
	manifest, err := os.ReadFile(filepath.Join(dir, name+".toml"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		p.log.Warn("read plugin manifest", "plugin", name, "err", err)
		return
	}
	if err := p.Install(ctx, name, wasm, manifest); err != nil {
		p.log.Warn("plugin not loaded; the last good version, if any, keeps serving", "plugin", name, "err", err)
	}
}

// WatchDir loads every plugin in dir, then reloads each one when its files
// change, debounced, until ctx ends. ready, if not nil, is called once the
// first load is done and the watch is in place.
func (p *Plugins) WatchDir(ctx context.Context, dir string, debounce time.Duration, ready func()) error {
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch plugins: %w", err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watch plugins directory %s: %w", dir, err)
	}
	if err := p.LoadDir(ctx, dir); err != nil {
		return err
	}
	if ready != nil {
		ready()
	}

	due := make(chan string, 16)
	timers := make(map[string]*time.Timer)
	var poll *time.Ticker // set while dir is gone
	var polled <-chan time.Time
	defer func() {
		for _, t := range timers {
			t.Stop()
		}
		if poll != nil {
			poll.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-polled:
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				continue
			}
			if err := w.Add(dir); err != nil {
				p.log.Warn("plugins directory is back but cannot be watched; retrying", "dir", dir, "err", err)
				continue
			}
			poll.Stop()
			poll, polled = nil, nil
			// Load what is there; a plugin missing from it keeps serving
			// (a directory refilled file by file must not drop plugins).
			p.log.Warn("plugins directory is back; loading from it", "dir", dir)
			if err := p.LoadDir(ctx, dir); err != nil {
				p.log.Warn("plugins directory", "dir", dir, "err", err)
			}
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Clean(ev.Name) == filepath.Clean(dir) {
				if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
					_ = w.Remove(dir) // fsnotify dropped it already; this is for sure
					if poll == nil {
						p.log.Error("plugins directory is gone; plugins keep serving what they loaded; waiting for it to come back", "dir", dir)
						poll = time.NewTicker(dirPollInterval)
						polled = poll.C
					}
				}
				continue
			}
			name, ok := pluginFile(ev.Name)
			if !ok {
				continue
			}
			if t := timers[name]; t != nil {
				t.Reset(debounce)
				continue
			}
			timers[name] = time.AfterFunc(debounce, func() {
				select {
				case due <- name:
				case <-ctx.Done():
				}
			})
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			p.log.Warn("plugin watch", "err", err)
		case name := <-due:
			p.sync(ctx, dir, name)
		}
	}
}

// dirPollInterval is how often WatchDir looks for its directory once it is
// gone. A variable for tests.
var dirPollInterval = time.Second
