package trace

import (
	"context"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/watch"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// clearScreen moves the cursor home and clears the screen, so that each trace replaces
// the last one on a terminal.
const clearScreen = "\x1b[H\x1b[2J"

// rewatchDelay is how long a watch that failed waits before it is opened again.
const rewatchDelay = time.Second

// Watch prints the trace of the entity name, then again whenever what it shows changes,
// until ctx is done: a watch on the one CatalogEntity, opened again from where it left
// off when the API server ends it. With Objects it also reads the objects again every
// LiveEvery.
func (t *Tracer) Watch(ctx context.Context, name string) error {
	e, err := t.get(ctx, name)
	if err != nil {
		return err
	}
	d := &drawer{out: t.Out, redraw: t.Redraw, output: t.Printer.Output}
	if err := t.draw(ctx, d, e, name); err != nil {
		return err
	}
	var tick <-chan time.Time
	if t.Objects != nil && t.LiveEvery > 0 {
		ticker := time.NewTicker(t.LiveEvery)
		defer ticker.Stop()
		tick = ticker.C
	}
	rv := e.ResourceVersion
	for ctx.Err() == nil {
		w, err := t.WatchEntity(ctx, t.Namespace, name, rv)
		if err != nil {
			if apierrors.IsForbidden(err) {
				return t.explain(ctx, err, "watch", name)
			}
			sleep(ctx, rewatchDelay)
			continue
		}
		e, rv, err = t.follow(ctx, w, d, name, e, rv, tick)
		w.Stop()
		if err != nil {
			return err
		}
	}
	return nil
}

// follow draws what one watch reports until it ends, and returns the entity and the
// resource version to go on from ("" after the version expired: the next watch starts
// with the current state).
func (t *Tracer) follow(ctx context.Context, w watch.Interface, d *drawer, name string,
	e *catalogv1alpha1.CatalogEntity, rv string, tick <-chan time.Time) (*catalogv1alpha1.CatalogEntity, string, error) {
	for {
		select {
		case <-ctx.Done():
			return e, rv, nil
		case <-tick:
			if err := t.draw(ctx, d, e, name); err != nil {
				return e, rv, err
			}
		case ev, ok := <-w.ResultChan():
			if !ok {
				return e, rv, nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				if got, ok := ev.Object.(*catalogv1alpha1.CatalogEntity); ok {
					e, rv = got, got.ResourceVersion
				}
			case watch.Deleted:
				e = nil
				if m, err := meta.Accessor(ev.Object); err == nil {
					rv = m.GetResourceVersion()
				}
			case watch.Error:
				// Most often the resource version expired; any other error is met the
				// same way, by watching again from the current state.
				return e, "", nil
			default:
				continue
			}
			if err := t.draw(ctx, d, e, name); err != nil {
				return e, rv, err
			}
		}
	}
}

// draw prints the trace of e, or that it is gone, when it differs from the last.
func (t *Tracer) draw(ctx context.Context, d *drawer, e *catalogv1alpha1.CatalogEntity, name string) error {
	if e == nil {
		return d.draw(fmt.Sprintf("CatalogEntity %s/%s was deleted; waiting for it to come back (Ctrl-C to stop)\n", t.Namespace, name))
	}
	frame, err := t.frame(ctx, e)
	if err != nil {
		return err
	}
	return d.draw(frame)
}

// drawer prints frames that differ from the last: in place on a terminal, else one after
// the other (YAML documents separated by ---).
type drawer struct {
	out    io.Writer
	redraw bool
	output string
	last   string
	frames int
}

func (d *drawer) draw(frame string) error {
	if frame == d.last {
		return nil
	}
	d.last = frame
	sep := ""
	switch {
	case d.redraw:
		sep = clearScreen
	case d.frames > 0 && d.output == OutputYAML:
		sep = "---\n"
	case d.frames > 0 && d.output != OutputJSON:
		sep = "\n"
	}
	d.frames++
	_, err := io.WriteString(d.out, sep+frame)
	return err
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
