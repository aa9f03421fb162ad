package arrayio

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/sbinet/npyio/npz"
)

// File is one file of a group written by WriteFiles: Fill writes its bytes.
type File struct {
	Path string
	Fill func(w io.Writer) error
}

// NPZFile returns the File of an uncompressed .npz archive of arrays (see
// WriteNPZ); the arrays are validated when the group is written.
func NPZFile(path string, arrays map[string]Array) File {
	return File{Path: path, Fill: func(w io.Writer) error {
		names := make([]string, 0, len(arrays))
		for k := range arrays {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if err := arrays[k].Validate(k); err != nil {
				return err
			}
		}
		zw := npz.NewWriter(w)
		for _, k := range names {
			if err := zw.Write(k+".npy", arrays[k].value()); err != nil {
				return err
			}
		}
		return zw.Close()
	}}
}

// JSONFile returns the File of v as indented JSON (see WriteJSON).
func JSONFile(path string, v any) File {
	return File{Path: path, Fill: func(w io.Writer) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}}
}

// stage writes f to a new temporary beside f.Path and returns its name.
func stage(f File) (string, error) {
	dir := filepath.Dir(f.Path)
	t, err := createTemp(dir, filepath.Base(f.Path))
	if err != nil {
		return "", fmt.Errorf("create temporary file for %s: %w", f.Path, err)
	}
	tmp := t.Name()
	fail := func(err error) (string, error) {
		t.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Fill(t); err != nil {
		return fail(fmt.Errorf("write %s: %w", f.Path, err))
	}
	if err := t.Sync(); err != nil {
		return fail(fmt.Errorf("sync %s: %w", f.Path, err))
	}
	if err := t.Close(); err != nil {
		return fail(fmt.Errorf("close %s: %w", f.Path, err))
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// WriteFiles writes a group of files: every file goes to its own temporary
// first, and only when all of them are complete are they renamed into place,
// in order. A failed write leaves no file of the group changed and no
// temporary behind; a kill during the renames can leave some files new and
// some old, which readers detect with a run id recorded in every file (see
// datasets/flux and datasets/toy). Stale temporaries of each destination
// folder are cleaned first (CleanStale).
func WriteFiles(files ...File) error {
	tmps := make([]string, len(files))
	drop := func() {
		for _, t := range tmps {
			if t != "" {
				os.Remove(t)
			}
		}
	}
	for _, f := range files {
		if info, err := os.Stat(f.Path); err == nil && info.IsDir() {
			return fmt.Errorf("cannot write %s: it is an existing folder", f.Path)
		}
	}
	cleaned := map[string]bool{}
	for i, f := range files {
		dir := filepath.Dir(f.Path)
		if !cleaned[dir] {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				drop()
				return fmt.Errorf("create folder for %s: %w", f.Path, err)
			}
			CleanStale(dir)
			cleaned[dir] = true
		}
		tmp, err := stage(f)
		if err != nil {
			drop()
			return err
		}
		tmps[i] = tmp
		CrashPoint("tmp:" + filepath.Base(f.Path))
	}
	for i, f := range files {
		if err := os.Rename(tmps[i], f.Path); err != nil {
			drop()
			if i > 0 {
				return fmt.Errorf("rename into %s: %w (the group is incomplete: %s was already replaced)", f.Path, err, files[0].Path)
			}
			return fmt.Errorf("rename into %s: %w", f.Path, err)
		}
		tmps[i] = ""
		CrashPoint(filepath.Base(f.Path))
	}
	for dir := range cleaned {
		syncDir(dir)
	}
	return nil
}

// syncDir flushes a folder's entries (best effort: some file systems refuse).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// ReplaceDir replaces the folder dir as a whole: fill writes the new content
// into a fresh temporary sibling folder (.<base>.tmp-<pid>-<random>), then
// the old dir, if any, is renamed aside (.<base>.old-<pid>-<random>), the new
// folder is renamed to dir, and the old one is removed. A failure in fill
// leaves dir untouched. A kill at any point leaves either the old or the new
// folder at dir, or — killed between the two renames — the old folder set
// aside, which the next CleanStale of the parent folder (every writer of this
// package, ReplaceDir included, runs one) renames back to dir.
func ReplaceDir(dir string, fill func(tmp string) error) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	if wd, err := os.Getwd(); (err == nil && wd == abs) || parent == abs {
		return fmt.Errorf("cannot replace %s: it is the current or root folder; name a sub-folder", dir)
	}
	if info, err := os.Stat(abs); err == nil && !info.IsDir() {
		return fmt.Errorf("%s exists and is not a folder", dir)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create folder for %s: %w", dir, err)
	}
	tmp, err := MkdirTemp(parent, base) // also restores a folder set aside by a killed writer
	if err != nil {
		return fmt.Errorf("create temporary folder for %s: %w", dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	syncDir(tmp)
	old := ""
	if _, err := os.Lstat(abs); err == nil {
		old = filepath.Join(parent, fmt.Sprintf(".%s.old-%d-%s", base, os.Getpid(), randHex()))
		if err := os.Rename(abs, old); err != nil {
			return fmt.Errorf("set the old %s aside: %w", dir, err)
		}
		CrashPoint("swap:" + base)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, abs); err != nil {
		if old != "" {
			if err2 := os.Rename(old, abs); err2 != nil {
				return fmt.Errorf("rename the new %s into place: %w (the old folder is kept as %s)", dir, err, old)
			}
		}
		return fmt.Errorf("rename the new %s into place: %w", dir, err)
	}
	ok = true
	syncDir(parent)
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("%s was replaced, but removing the old copy %s failed: %w", dir, old, err)
		}
	}
	return nil
}

// CheckOutputDir reports, before any work, whether dir can receive output: it
// is an existing folder in which a file can be created, or it does not exist
// and its nearest existing ancestor is such a folder (then dir can be made).
// A probe file (named like a temporary, removed at once) tests writability.
func CheckOutputDir(dir string) error {
	if dir == "" {
		return errors.New("empty folder name")
	}
	p := filepath.Clean(dir)
	for {
		info, err := os.Stat(p)
		if err == nil {
			if !info.IsDir() {
				if p == filepath.Clean(dir) {
					return fmt.Errorf("%s is an existing file, not a folder", dir)
				}
				return fmt.Errorf("cannot create %s: %s is a file, not a folder", dir, p)
			}
			return probeWritable(p, dir)
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("cannot use %s: %w", dir, err)
		}
		up := filepath.Dir(p)
		if up == p {
			return fmt.Errorf("cannot use %s: no existing ancestor folder", dir)
		}
		p = up
	}
}

func probeWritable(p, dir string) error {
	f, err := createTemp(p, "write-probe")
	if err != nil {
		if p == filepath.Clean(dir) {
			return fmt.Errorf("folder %s is not writable: %w", dir, unwrapPath(err))
		}
		return fmt.Errorf("cannot create %s: folder %s is not writable: %w", dir, p, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// unwrapPath drops the *fs.PathError wrapper (its path is a probe name).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CheckOutputFile reports, before any work, whether path can be written: it
// is not an existing folder (or other non-regular file) and its folder passes
// CheckOutputDir.
func CheckOutputFile(path string) error {
	if path == "" {
		return errors.New("empty file name")
	}
	if info, err := os.Stat(path); err == nil {
		if info.IsDir() {
			return fmt.Errorf("%s is an existing folder, not a file", path)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s exists and is not a regular file", path)
		}
	}
	return CheckOutputDir(filepath.Dir(path))
}
