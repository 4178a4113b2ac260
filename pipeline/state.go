package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// statePrefix marks the checkpoint state blobs that belong to the mapping,
// sealPrefix those of the sealed outputs' streams.
const (
	statePrefix = "mapping."
	sealPrefix  = "seal."
)

// loadState restores what the last save wrote besides the positions: the
// sealed outputs' streams and the mapping's state.
func (d *daemon) loadState() error {
	if d.cfg.Store == nil {
		return nil
	}
	for _, o := range d.p.outputs {
		if o.seal == nil {
			continue
		}
		// A stream without saved state starts at its genesis: a new
		// stream, or one whose state was lost, which a verifier reports.
		if b, ok := d.cfg.Store.State(sealPrefix + o.seal.StateKey()); ok {
			if err := o.seal.LoadState(b); err != nil {
				return fmt.Errorf("checkpoint %s: %w", d.cfg.Store.Path(), err)
			}
		}
	}
	if d.cfg.State == nil {
		return nil
	}
	blobs := map[string][]byte{}
	for _, name := range d.cfg.Store.StateNames() {
		if short, ok := strings.CutPrefix(name, statePrefix); ok {
			b, _ := d.cfg.Store.State(name)
			blobs[short] = b
		}
	}
	if err := d.cfg.State.LoadState(blobs); err != nil {
		return fmt.Errorf("checkpoint %s: mapping state: %w", d.cfg.Store.Path(), err)
	}
	return nil
}

// save writes the positions, the mapping state and the sealed streams'
// state. It is called only when every processed line has been written and
// committed, so that they all describe the same moment. Before, it writes
// the seals that are due (all of them when final): a seal covers what has
// been written, and its stream's state then records it.
func (d *daemon) save(ctx context.Context, final bool) error {
	var sealErr error
	if d.p.seal(time.Now(), final) {
		if sealErr = d.write(ctx); sealErr != nil {
			// The events are acknowledged whatever became of the seal:
			// their positions are saved all the same.
			sealErr = fmt.Errorf("writing seals: %w", sealErr)
		}
	}
	store := d.cfg.Store
	if store == nil {
		return sealErr
	}
	for _, o := range d.p.outputs {
		if o.seal == nil || !o.seal.Dirty() {
			continue
		}
		if err := store.SetState(sealPrefix+o.seal.StateKey(), o.seal.MarshalState()); err != nil {
			return errors.Join(sealErr, fmt.Errorf("saving seal state: %w", err))
		}
		o.seal.MarkSaved()
	}
	if d.cfg.State != nil && d.unsaved {
		blobs, err := d.cfg.State.SaveState(d.cfg.StateBudget)
		if err != nil {
			return fmt.Errorf("saving mapping state: %w", err)
		}
		for _, name := range store.StateNames() {
			if short, ok := strings.CutPrefix(name, statePrefix); ok && blobs[short] == nil {
				_ = store.SetState(name, nil)
			}
		}
		for name, b := range blobs {
			if err := store.SetState(statePrefix+name, b); err != nil {
				return fmt.Errorf("saving mapping state: %w", err)
			}
		}
	}
	if err := d.persist(final); err != nil {
		return errors.Join(sealErr, err)
	}
	d.unsaved, d.saved = false, true
	var sizes map[string]int
	if s, ok := d.cfg.State.(interface{ StateSizes() map[string]int }); ok {
		sizes = s.StateSizes()
	}
	d.p.metrics.saved(store, sizes)
	return sealErr
}

// persist hands a snapshot of the store to the saver, or, at the final save,
// waits for it and saves in this goroutine so that Follow returns only once
// the checkpoint is on disk.
func (d *daemon) persist(final bool) error {
	store := d.cfg.Store
	if final || d.saver == nil {
		if d.saver != nil {
			err := d.saver.close()
			d.saver = nil
			if err != nil {
				return err
			}
		}
		return store.Save()
	}
	snap, err := store.Snapshot()
	if err != nil {
		return err
	}
	return d.saver.submit(snap)
}
