package arrayio

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Temporary names. Every temporary this package makes lives in the folder of
// its destination and is named
//
//	.<base>.tmp-<pid>-<8 hex digits>   a file or folder being written
//	.<base>.old-<pid>-<8 hex digits>   a folder set aside by ReplaceDir
//
// where <base> is the destination's name and <pid> the writer's process id,
// so that CleanStale can tell a temporary of a live writer from one left by a
// killed process.

// processStart is (about) when this process started.
var processStart = time.Now()

// legacyAge: a temporary without a PID in its name (made by earlier versions:
// ".<name>.tmp-<digits>", ".tmp-ckpt-<digits>") counts as stale when untouched
// for this long before this process started.
const legacyAge = 10 * time.Minute

var (
	tempRe   = regexp.MustCompile(`^\.(.+)\.(tmp|old)-([0-9]+)-([0-9a-f]{8})$`)
	legacyRe = regexp.MustCompile(`^(\..+\.(npy|npz|json)\.tmp-[0-9]+|\.tmp-ckpt-[0-9]+)$`)
)

func randHex() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%08x", uint32(time.Now().UnixNano()))
	}
	return hex.EncodeToString(b[:])
}

// TempName returns a fresh temporary name (not yet created) for a file or
// folder that will be renamed to dir/base: dir/.<base>.tmp-<pid>-<random>.
func TempName(dir, base string) string {
	return filepath.Join(dir, fmt.Sprintf(".%s.tmp-%d-%s", base, os.Getpid(), randHex()))
}

// MkdirTemp creates a temporary folder in dir for content that will be
// renamed to dir/base (for example a checkpoint folder), named so that
// CleanStale removes it once its writer is dead. It cleans stale temporaries
// of dir first.
func MkdirTemp(dir, base string) (string, error) {
	CleanStale(dir)
	for range 100 {
		p := TempName(dir, base)
		err := os.Mkdir(p, 0o755)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("create temporary folder in %s: too many collisions", dir)
}

// createTemp creates a new temporary file for dir/base.
func createTemp(dir, base string) (*os.File, error) {
	for range 100 {
		f, err := os.OpenFile(TempName(dir, base), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("create temporary file in %s: too many collisions", dir)
}

// IsTemp reports whether name (a base name) is one of this package's
// temporaries (or a legacy one of earlier versions).
func IsTemp(name string) bool { return tempRe.MatchString(name) || legacyRe.MatchString(name) }

// CleanStale removes the stale temporaries in dir: files and folders named
// like this package's temporaries (see TempName) whose writer process is dead
// (or whose PID now belongs to a process started after the temporary was last
// modified, or is this process's PID but older than this process), and
// PID-less ones of earlier versions untouched for 10 minutes before this
// process started. A stale folder set aside by ReplaceDir (.<base>.old-…) is
// renamed back to <base> when <base> is missing (the writer died between
// setting the old folder aside and renaming the new one in), and removed
// otherwise. It returns the paths it removed or restored; errors on single
// entries are skipped (the first one is returned). Writers of this package
// call it on the folder they write into.
func CleanStale(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var done []string
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		info, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if m := tempRe.FindStringSubmatch(name); m != nil {
			pid, err := strconv.Atoi(m[3])
			if err != nil || !writerGone(pid, info.ModTime()) {
				continue
			}
			if m[2] == "old" {
				dest := filepath.Join(dir, m[1])
				if _, err := os.Lstat(dest); errors.Is(err, fs.ErrNotExist) {
					if err := os.Rename(p, dest); err == nil {
						done = append(done, dest)
						continue
					}
				}
			}
			if err := os.RemoveAll(p); err != nil {
				note(err)
				continue
			}
			done = append(done, p)
			continue
		}
		if legacyRe.MatchString(name) && info.ModTime().Before(processStart.Add(-legacyAge)) {
			if err := os.RemoveAll(p); err != nil {
				note(err)
				continue
			}
			done = append(done, p)
		}
	}
	return done, first
}

// writerGone reports whether the process that made a temporary last modified
// at mtime is certainly no longer writing it.
func writerGone(pid int, mtime time.Time) bool {
	if pid == os.Getpid() {
		return mtime.Before(processStart.Add(-2 * time.Second))
	}
	if !processAlive(pid) {
		return true
	}
	if st, ok := processStartTime(pid); ok && st.After(mtime.Add(2*time.Second)) {
		return true // PID reused by a later process
	}
	return false
}

// CrashEnv names the environment variable of the test crash hook: when it
// equals a point passed to CrashPoint, the process kills itself there with
// SIGKILL, as `kill -9` would.
const CrashEnv = "PDEDIFF_TEST_CRASH_AFTER"

var crashAt = sync.OnceValue(func() string { return os.Getenv(CrashEnv) })

// CrashPoint is a test hook for kill -9 at a chosen point of a multi-step
// write: when $PDEDIFF_TEST_CRASH_AFTER equals point the process is killed at
// once (no deferred cleanup runs). The points of this package are the base
// name of a file right after it was renamed into place ("train.npz"),
// "tmp:<base>" right before that rename, and "swap:<base>" inside ReplaceDir
// after the old folder was set aside and before the new one is renamed in.
func CrashPoint(point string) {
	if p := crashAt(); p != "" && p == point {
		killSelf()
	}
}
