package bench

import (
	"math"
	"slices"
)

// Percentile returns the p-th percentile (0 < p <= 100) of xs by the nearest-rank
// method: the smallest sample such that at least p% of the samples are at or below it.
// It sorts xs in place. Zero for no samples.
func Percentile(xs []int64, p float64) int64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return sortedPercentile(xs, p)
}

func sortedPercentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// round rounds x to n decimal places (for readable JSON).
func round(x float64, n int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	s := math.Pow(10, float64(n))
	return math.Round(x*s) / s
}
