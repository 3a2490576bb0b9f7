package recording

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNoFFmpeg is returned by Export when ffmpeg is not installed.
var ErrNoFFmpeg = errors.New("recording: ffmpeg not found on PATH; install ffmpeg (e.g. apt-get install ffmpeg) to export a composite video")

// Export tile size and frame rate: a grid of 640x360 tiles at 15 fps keeps the composite
// readable and cheap to encode; it is a viewing copy, the track files are the evidence.
const (
	tileW, tileH = 640, 360
	exportFPS    = 15
)

// Export renders a sealed session folder into one composite MP4 (H.264 + AAC) with
// ffmpeg: a grid with one tile per video track (a named grey tile for a participant with
// audio only), each participant's name burnt into their tile, the wall-clock time burnt
// in at the top right, all audio mixed; every file placed at its start offset. Restricted
// (sealed caucus) files are left out. progress, if set, gets the fraction done (0..1).
// The output is written to a temporary name and renamed into place.
func Export(ctx context.Context, sessionDir, out string, progress func(frac float64)) error {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return ErrNoFFmpeg
	}
	body, err := os.ReadFile(filepath.Join(sessionDir, manifestName))
	if err != nil {
		return fmt.Errorf("export needs a sealed session folder: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	tmp, err := os.MkdirTemp("", "yizhan-export")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	graph, inputs, total, err := exportGraph(&m, sessionDir, tmp, cjkFont())
	if err != nil {
		return err
	}
	script := filepath.Join(tmp, "graph.txt")
	if err := os.WriteFile(script, []byte(graph), 0o600); err != nil {
		return err
	}
	part := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".part")
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1", "-y"}
	args = append(args, inputs...)
	args = append(args, "-filter_complex_script", script, "-map", "[v]", "-map", "[a]",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k", "-t", ffSeconds(total), "-movflags", "+faststart", "-f", "mp4", part)
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() { // ffmpeg -progress: key=value lines; out_time_us is the output position
		if v, ok := strings.CutPrefix(sc.Text(), "out_time_us="); ok && progress != nil && total > 0 {
			if us, err := strconv.ParseInt(v, 10, 64); err == nil {
				progress(math.Min(1, float64(us)/float64(total.Microseconds())))
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		os.Remove(part)
		return fmt.Errorf("ffmpeg: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if progress != nil {
		progress(1)
	}
	return os.Rename(part, out)
}

func ffSeconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// exportGraph builds the ffmpeg inputs and filter graph. Names go through text files
// with expansion off, so no participant name is ever parsed as filter syntax.
func exportGraph(m *Manifest, dir, tmp, font string) (graph string, inputs []string, total time.Duration, err error) {
	type tile struct {
		input int // -1: a colour tile
		name  string
		off   time.Duration
	}
	var tiles []tile
	var audio []tile
	hasVideo := map[string]bool{}
	names := map[string]string{}
	for _, p := range m.Participants {
		names[p.Identity] = p.Name
	}
	for _, f := range m.Files {
		if f.Restricted || (f.Kind != "video" && f.Kind != "audio") || f.Frames == 0 {
			continue
		}
		off := time.Duration(max(0, f.StartOffsetMs)) * time.Millisecond
		if end := off + time.Duration(f.DurationMs)*time.Millisecond; end > total {
			total = end
		}
		name := f.Participant
		if name == "" {
			name = names[f.Identity]
		}
		if name == "" {
			name = f.Identity
		}
		inputs = append(inputs, "-i", filepath.Join(dir, filepath.FromSlash(f.Path)))
		t := tile{input: len(inputs)/2 - 1, name: name, off: off}
		if f.Kind == "video" {
			tiles = append(tiles, t)
			hasVideo[f.Identity] = true
		} else {
			audio = append(audio, t)
		}
	}
	for _, f := range m.Files { // a participant heard but not seen still gets a tile
		if f.Kind == "audio" && !f.Restricted && f.Frames > 0 && !hasVideo[f.Identity] {
			hasVideo[f.Identity] = true
			tiles = append(tiles, tile{input: -1, name: names[f.Identity] + " " + f.Identity})
		}
	}
	if len(tiles) == 0 && len(audio) == 0 {
		return "", nil, 0, errors.New("export: the session has no recorded media")
	}
	if len(tiles) == 0 {
		tiles = append(tiles, tile{input: -1, name: m.Title})
	}
	cols := int(math.Ceil(math.Sqrt(float64(len(tiles)))))
	rows := (len(tiles) + cols - 1) / cols
	for len(tiles) < cols*rows {
		tiles = append(tiles, tile{input: -1})
	}
	T := ffSeconds(total)
	var g strings.Builder
	var layout []string
	for k, t := range tiles {
		if t.input >= 0 {
			fmt.Fprintf(&g, "[%d:v]setpts=PTS-STARTPTS,scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2:black,fps=%d,tpad=start_duration=%s:color=black:stop_mode=add:stop_duration=%s,trim=duration=%s",
				t.input, tileW, tileH, tileW, tileH, exportFPS, ffSeconds(t.off), T, T)
		} else {
			fmt.Fprintf(&g, "color=c=0x202020:s=%dx%d:r=%d:d=%s", tileW, tileH, exportFPS, T)
		}
		if t.name != "" {
			nf := filepath.Join(tmp, fmt.Sprintf("name%d.txt", k))
			if err := os.WriteFile(nf, []byte(t.name), 0o600); err != nil {
				return "", nil, 0, err
			}
			fmt.Fprintf(&g, ",drawtext=textfile='%s':expansion=none:%s:fontsize=26:fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=6:x=12:y=h-th-14",
				filterPath(nf), font)
		}
		fmt.Fprintf(&g, "[t%d];\n", k)
		layout = append(layout, fmt.Sprintf("%d_%d", (k%cols)*tileW, (k/cols)*tileH))
	}
	if len(tiles) == 1 {
		g.WriteString("[t0]null[grid];\n")
	} else {
		for k := range tiles {
			fmt.Fprintf(&g, "[t%d]", k)
		}
		fmt.Fprintf(&g, "xstack=inputs=%d:layout=%s[grid];\n", len(tiles), strings.Join(layout, "|"))
	}
	// The clock: the session's opening time plus the output position, local time.
	epoch := strconv.FormatFloat(float64(m.OpenedAt.UnixNano())/1e9, 'f', 3, 64)
	fmt.Fprintf(&g, "[grid]drawtext=text='%%{pts\\:localtime\\:%s\\:%%Y-%%m-%%d %%H\\\\\\:%%M\\\\\\:%%S}':%s:fontsize=28:fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=6:x=w-tw-12:y=12,format=yuv420p[v];\n",
		epoch, font)
	if len(audio) == 0 {
		fmt.Fprintf(&g, "anullsrc=r=48000:cl=stereo,atrim=duration=%s[a]\n", T)
	} else {
		for k, a := range audio {
			// async fills the gaps in a track with silence so later audio keeps its place.
			fmt.Fprintf(&g, "[%d:a]aresample=48000:async=1:first_pts=0,adelay=delays=%d:all=1[a%d];\n", a.input, a.off.Milliseconds(), k)
		}
		for k := range audio {
			fmt.Fprintf(&g, "[a%d]", k)
		}
		fmt.Fprintf(&g, "amix=inputs=%d:duration=longest:dropout_transition=0:normalize=0,apad,atrim=duration=%s[a]\n", len(audio), T)
	}
	return g.String(), inputs, total, nil
}

// cjkFont picks a font that has Chinese glyphs (names are mostly Chinese): fontconfig's
// best match for Simplified Chinese, as a drawtext option.
func cjkFont() string {
	out, err := exec.Command("fc-match", "--format=%{file}", "sans-serif:lang=zh-cn").Output()
	if f := strings.TrimSpace(string(out)); err == nil && f != "" && exists(f) {
		return "fontfile='" + filterPath(f) + "'"
	}
	return "font='sans-serif'"
}

// filterPath escapes a file path for use inside single quotes in a filter graph.
func filterPath(p string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `'\''`, `:`, `\:`).Replace(p)
}
