package mediation

import (
	"context"
	"fmt"
	"time"

	"yizhan/store"
)

// demoLectureTitle names the demo's lecture, so that a second `serve --dev` finds it
// again instead of scheduling another.
const demoLectureTitle = "法治大讲堂：婚姻家庭纠纷中的法律"

// seedLecture schedules the city's demo lecture (issue 15) for tomorrow evening, with
// the lawyer and the judge as speakers, unless a scheduled or live one is there.
func seedLecture(ctx context.Context, st store.Store) (store.Lecture, error) {
	lecs, err := st.ListLectures(ctx, "city", 200)
	if err != nil {
		return store.Lecture{}, err
	}
	for _, l := range lecs {
		if l.Title == demoLectureTitle && l.State != "ended" {
			return l, nil
		}
	}
	y, m, d := time.Now().In(chinaTime).AddDate(0, 0, 1).Date()
	lec, err := st.CreateLecture(ctx, store.Lecture{Centre: "city", Title: demoLectureTitle, Room: lectureRoomPrefix + randomCode(10),
		ScheduledAt: time.Date(y, m, d, 19, 0, 0, 0, chinaTime).UTC(), Speakers: []string{"lawyer", "judge"},
		CreatedBy: "city-leader", CreatedAt: time.Now()})
	if err != nil {
		return store.Lecture{}, fmt.Errorf("seed lecture: %w", err)
	}
	return lec, nil
}
