package ot

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// bar is an optional progress bar; the zero value (no writer) does nothing.
type bar struct{ pb *progressbar.ProgressBar }

func newBar(w io.Writer, max int, desc string) bar {
	if w == nil {
		return bar{}
	}
	return bar{progressbar.NewOptions(max, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())}
}

func (b bar) add() {
	if b.pb != nil {
		_ = b.pb.Add(1)
	}
}

func (b bar) finish() {
	if b.pb != nil {
		_ = b.pb.Finish()
	}
}
