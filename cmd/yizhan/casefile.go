package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"yizhan/recording"
)

// The case-file commands work offline, on the files alone: verify a case file, print the
// server's public key, export a composite video. None of them needs the server running.

// cmdVerify is `yizhan verify PATH [--key FILE] [--data DIR]`: every hash, the event
// chain, the signatures of a case folder or one session folder. It prints what it
// checked and fails naming the first mismatch. PATH may also be a case id or number
// (looked up under --data).
func cmdVerify(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: yizhan verify PATH [--key FILE] [--data DIR]\n\nPATH is a case folder, a session folder, or a case id or number under --data.")
		fs.PrintDefaults()
	}
	keyFile := fs.String("key", "", "the server's public key (PEM, from `yizhan signing-key` or /api/signing-key); pins the signatures to it")
	data := fs.String("data", envOr("YIZHAN_DATA", "./data"), "data directory: its signing key is trusted when --key is not given (env YIZHAN_DATA)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errors.New("want exactly one PATH")
	}
	path := pos[0]
	if _, err := os.Stat(path); err != nil {
		dir, rerr := resolveCase(*data, path)
		if rerr != nil {
			return fmt.Errorf("%s: not a folder, and %v", path, rerr)
		}
		path = dir
	}
	var trusted *recording.PublicKey
	switch {
	case *keyFile != "":
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		k, err := recording.ParsePublicKeyPEM(b)
		if err != nil {
			return fmt.Errorf("key %s: %w", *keyFile, err)
		}
		trusted = &k
	default:
		// The server's own key when the data folder has one; otherwise only the key the
		// manifest names is checked, and the summary says so.
		if k, err := recording.LoadPublicKey(*data); err == nil {
			trusted = k
		} else if flagSet(fs, "data") {
			return fmt.Errorf("signing key in %s: %w", *data, err)
		}
	}
	rep, err := recording.Verify(path, trusted)
	fmt.Fprint(stdout, rep.Summary())
	if err != nil {
		if len(rep.Problems) > 0 {
			return errors.New(rep.Problems[0])
		}
		return err
	}
	return nil
}

// cmdSigningKey is `yizhan signing-key [--data DIR]`: the public key PEM on stdout (the
// same as /api/signing-key), its id on stderr. A data folder without a key gets one, as
// `serve` would create at its first start; stderr says so.
func cmdSigningKey(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("signing-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("YIZHAN_DATA", "./data"), "data directory holding the signing key (env YIZHAN_DATA)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	pub, err := recording.LoadPublicKey(*data)
	if err != nil {
		if err := os.MkdirAll(*data, 0o750); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		k, err := recording.LoadOrCreateKey(*data)
		if err != nil {
			return fmt.Errorf("signing key: %w", err)
		}
		p := k.Public()
		pub = &p
		fmt.Fprintf(stderr, "created a new signing key in %s\n", *data)
	}
	if _, err := stdout.Write(pub.PEM()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "key id %s\n", pub.KeyID())
	return nil
}

// cmdExport is `yizhan export CASE [SESSION] --out FILE.mp4 [--data DIR]`: one composite
// video of a sealed session (ffmpeg), with a progress bar on stderr. The export is
// logged in the case's custody log.
func cmdExport(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: yizhan export CASE [SESSION] --out FILE.mp4 [--data DIR]\n\nCASE is a case id, case number or case folder name; SESSION a session id or folder (s12, s12-part2);\nCASE may also be the path of a session folder.")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "the MP4 file to write")
	data := fs.String("data", envOr("YIZHAN_DATA", "./data"), "data directory (env YIZHAN_DATA)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 || *out == "" {
		fs.Usage()
		return errors.New("want CASE [SESSION] and --out FILE.mp4")
	}
	sessionDir, err := resolveSession(*data, pos)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newProgressBar(stderr, *quiet)
	err = recording.Export(ctx, sessionDir, *out, bar.set)
	bar.done(err == nil)
	if errors.Is(err, recording.ErrNoFFmpeg) {
		return errors.New("ffmpeg is not installed (or not on PATH): the composite video needs it. Install it (apt-get install ffmpeg, or from https://ffmpeg.org) and run export again; the track files themselves play without it")
	}
	if err != nil {
		return err
	}
	logExport(sessionDir, *out, stderr)
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

// logExport appends the export to the custody log of the case the session belongs to.
func logExport(sessionDir, out string, stderr io.Writer) {
	caseDir := filepath.Dir(filepath.Clean(sessionDir))
	actor := "cli"
	if u, err := user.Current(); err == nil && recording.CheckName(u.Username) == nil {
		actor = "cli:" + u.Username
	}
	l, err := recording.OpenCustodyLog(filepath.Dir(filepath.Dir(caseDir)), filepath.Base(caseDir))
	if err == nil {
		_, err = l.Append(recording.Event{Kind: recording.KindExported, Actor: actor, Subject: filepath.Base(sessionDir),
			Detail: map[string]string{"out": filepath.Base(out), "how": "yizhan export"}})
		l.Close()
	}
	if err != nil {
		fmt.Fprintf(stderr, "warning: the export was not written to the custody log: %v\n", err)
	}
}

// resolveSession finds the session folder named by CASE [SESSION].
func resolveSession(data string, pos []string) (string, error) {
	if len(pos) == 1 {
		if _, err := os.Stat(filepath.Join(pos[0], "manifest.json")); err == nil {
			return pos[0], nil // a session folder's path
		}
	}
	caseDir, err := resolveCase(data, pos[0])
	if err != nil {
		return "", err
	}
	ents, err := os.ReadDir(caseDir)
	if err != nil {
		return "", err
	}
	var sessions []string
	for _, e := range ents {
		if e.IsDir() {
			sessions = append(sessions, e.Name())
		}
	}
	sort.Strings(sessions)
	if len(pos) == 1 {
		if len(sessions) == 1 {
			return filepath.Join(caseDir, sessions[0]), nil
		}
		return "", fmt.Errorf("case folder %s has %d sessions (%s): name one", filepath.Base(caseDir), len(sessions), strings.Join(sessions, ", "))
	}
	name := pos[1]
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		name = "s" + name // a session id
	}
	if recording.CheckName(name) != nil {
		return "", fmt.Errorf("bad session name %q", pos[1])
	}
	for _, s := range sessions {
		if s == name {
			return filepath.Join(caseDir, s), nil
		}
	}
	return "", fmt.Errorf("case folder %s has no session %s (it has: %s)", filepath.Base(caseDir), name, strings.Join(sessions, ", "))
}

// resolveCase finds a case folder under <data>/cases by folder name, case id
// ("case<id>_<number>") or case number.
func resolveCase(data, name string) (string, error) {
	if recording.CheckName(name) != nil {
		return "", fmt.Errorf("bad case name %q", name)
	}
	root := filepath.Join(data, "cases")
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no case files under %s (wrong --data?)", data)
	}
	if err != nil {
		return "", err
	}
	var match []string
	_, numErr := strconv.ParseInt(name, 10, 64)
	for _, e := range ents {
		n := e.Name()
		switch {
		case !e.IsDir():
		case n == name:
			return filepath.Join(root, n), nil
		case numErr == nil && strings.HasPrefix(n, "case"+name+"_"):
			match = append(match, n)
		case strings.HasSuffix(n, "_"+name):
			match = append(match, n)
		}
	}
	switch len(match) {
	case 0:
		return "", fmt.Errorf("no case %q under %s", name, root)
	case 1:
		return filepath.Join(root, match[0]), nil
	}
	return "", fmt.Errorf("case %q is ambiguous: %s; name the folder", name, strings.Join(match, ", "))
}

// parseInterspersed parses flags that may come after positional arguments
// (`verify PATH --key K`), which package flag alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// progressBar draws "export [######....]  42%" on one line of w, at most 10 times a second.
type progressBar struct {
	w     io.Writer
	off   bool
	last  time.Time
	shown int // percent last drawn, -1 before the first
}

func newProgressBar(w io.Writer, off bool) *progressBar {
	return &progressBar{w: w, off: off, shown: -1}
}

func (b *progressBar) set(frac float64) {
	pct := int(min(max(frac, 0), 1) * 100)
	if b.off || pct == b.shown || (time.Since(b.last) < 100*time.Millisecond && pct < 100) {
		return
	}
	b.shown, b.last = pct, time.Now()
	const width = 40
	n := pct * width / 100
	fmt.Fprintf(b.w, "\rexport [%s%s] %3d%%", strings.Repeat("#", n), strings.Repeat(".", width-n), pct)
}

func (b *progressBar) done(ok bool) {
	if b.off || b.shown < 0 {
		return
	}
	if ok {
		b.last = time.Time{}
		b.set(1)
	}
	fmt.Fprintln(b.w)
}
