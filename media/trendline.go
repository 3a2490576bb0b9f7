package media

import "time"

// The delay-based detector of Google congestion control
// (draft-ietf-rmcat-gcc-02 §5, as libwebrtc's TrendlineEstimator does it):
// packets are grouped in bursts of 5 ms of send time; for each group, how
// much longer (or shorter) it took to arrive than to send since the previous
// group is the delay variation; the slope of its running sum over the last
// groups says whether the bottleneck's queue grows (overuse), shrinks
// (underuse) or stays (normal). An adaptive threshold keeps a jittery radio
// link from looking congested.

// arrivalGroups groups packets by send time. Pure state, owned by twccSender.
type arrivalGroups struct {
	started              bool
	firstSent            int64 // the current group's first send time, ns
	firstArr             int64 // the current group's first arrival, ns
	lastSent, lastArr    int64 // the current group's last packet
	prevSent, prevArr    int64 // the previous complete group's last packet
	havePrev             bool
	groupBytes, prevSize int
}

const (
	groupSpan = int64(5 * time.Millisecond)
	// A burst: packets held up together (a radio's scheduler, a jittery hop)
	// arrive back to back; within burstSpan of each other and sooner than
	// they were sent apart, they are one group (libwebrtc's BelongsToBurst).
	burstSpan    = int64(5 * time.Millisecond)
	burstMaxSpan = int64(100 * time.Millisecond)
)

// add takes one packet (send and arrival time in ns, in the sender's and
// the receiver's clock). When it starts a new group, the delay variation
// between the two groups before it (ns) comes back, with the arrival of the
// later one.
func (g *arrivalGroups) add(sent, arr int64, size int) (variation, at int64, ok bool) {
	if !g.started {
		g.started, g.firstSent, g.firstArr, g.lastSent, g.lastArr, g.groupBytes = true, sent, arr, sent, arr, size
		return 0, 0, false
	}
	if sent < g.firstSent {
		return 0, 0, false // reordered: belongs to a group already done
	}
	arrDelta, sentDelta := arr-g.lastArr, sent-g.lastSent
	burst := arrDelta <= burstSpan && arrDelta-sentDelta < 0 && arr-g.firstArr < burstMaxSpan
	if sent-g.firstSent <= groupSpan || burst {
		g.lastSent = max(g.lastSent, sent)
		g.lastArr = max(g.lastArr, arr)
		g.groupBytes += size
		return 0, 0, false
	}
	// The current group is complete.
	if g.havePrev {
		variation = (g.lastArr - g.prevArr) - (g.lastSent - g.prevSent)
		at, ok = g.lastArr, true
	}
	g.prevSent, g.prevArr, g.havePrev, g.prevSize = g.lastSent, g.lastArr, true, g.groupBytes
	g.firstSent, g.firstArr, g.lastSent, g.lastArr, g.groupBytes = sent, arr, sent, arr, size
	return variation, at, ok
}

type usage int8

const (
	usageNormal usage = iota
	usageOver
	usageUnder
)

const (
	trendWindow    = 20   // groups in the regression
	trendSmoothing = 0.9  // of the accumulated delay
	trendGain      = 4.0  // libwebrtc's threshold gain
	thresholdInit  = 12.5 // ms
	thresholdUp    = 0.0087
	thresholdDown  = 0.039
	overuseTime    = 10 * time.Millisecond
)

// trendline is the detector's state. Pure state, owned by twccSender.
type trendline struct {
	n           int     // groups seen
	accumulated float64 // ms
	smoothed    float64 // ms
	x, y        [trendWindow]float64
	w           int // next slot in x, y
	elapsed     float64
	threshold   float64
	prevTrend   float64
	overFor     time.Duration
	overCount   int
	state       usage
	lastAt      int64 // arrival of the last group, ns in the receiver's clock
	started     bool
}

// update takes the delay variation between two groups (ns) and the later
// group's arrival (ns, the receiver's clock) and says what the link does.
func (t *trendline) update(arrival, variationNs int64) usage {
	if t.threshold == 0 {
		t.threshold = thresholdInit
	}
	d := float64(variationNs) / 1e6
	var dt float64 // ms between the two groups' arrivals
	if t.started {
		dt = max(float64(arrival-t.lastAt)/1e6, 0)
	}
	t.lastAt, t.started = arrival, true
	t.n++
	t.accumulated += d
	t.smoothed = trendSmoothing*t.smoothed + (1-trendSmoothing)*t.accumulated
	t.elapsed += dt
	t.x[t.w%trendWindow], t.y[t.w%trendWindow] = t.elapsed, t.smoothed
	t.w++
	if t.n < trendWindow {
		return t.state
	}
	slope := linearSlope(t.x[:], t.y[:])
	trend := min(float64(t.n), 60) * slope * trendGain
	t.detect(trend, dt)
	return t.state
}

func (t *trendline) detect(trend, dtMs float64) {
	switch {
	case trend > t.threshold:
		t.overFor += time.Duration(dtMs * float64(time.Millisecond))
		t.overCount++
		if t.overFor > overuseTime && t.overCount > 1 && trend >= t.prevTrend {
			t.overFor, t.overCount = 0, 0
			t.state = usageOver
		}
	case trend < -t.threshold:
		t.overFor, t.overCount = 0, 0
		t.state = usageUnder
	default:
		t.overFor, t.overCount = 0, 0
		t.state = usageNormal
	}
	t.prevTrend = trend
	t.adapt(trend, dtMs)
}

// adapt moves the threshold towards |trend|: fast down, slowly up, and not
// at all for a spike far above it (draft-ietf-rmcat-gcc-02 §5.4).
func (t *trendline) adapt(trend, dtMs float64) {
	abs := trend
	if abs < 0 {
		abs = -abs
	}
	if abs > t.threshold+15 {
		return
	}
	k := thresholdUp
	if abs < t.threshold {
		k = thresholdDown
	}
	t.threshold += k * (abs - t.threshold) * min(dtMs, 100)
	t.threshold = min(max(t.threshold, 6), 600)
}

// linearSlope is the least-squares slope of y over x.
func linearSlope(x, y []float64) float64 {
	var sx, sy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
	}
	mx, my := sx/float64(len(x)), sy/float64(len(y))
	var num, den float64
	for i := range x {
		num += (x[i] - mx) * (y[i] - my)
		den += (x[i] - mx) * (x[i] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}
