package mediation

import (
	"context"
	"fmt"
	"time"

	"yizhan/store"
)

// seedIntake publishes the demo centres' video rooms (issue 11): every centre's duty
// reception, so that citizens can raise a request at any time, and a slot of the east
// township's leader tomorrow morning. Idempotent.
func seedIntake(ctx context.Context, st store.Store) error {
	for _, c := range demoCentres {
		if _, err := st.DutySession(ctx, c.Code, dutyCaseTitle, dutyRoomTitle, "s-"+randomCode(10)); err != nil {
			return fmt.Errorf("seed duty reception %s: %w", c.Code, err)
		}
	}
	dutyEast, err := st.DutySession(ctx, "east", dutyCaseTitle, dutyRoomTitle, "")
	if err != nil {
		return err
	}
	if err := st.SetHost(ctx, dutyEast.ID, "east-mediator", true); err != nil {
		return err
	}
	slots, err := st.Slots(ctx, "east", time.Now())
	if err != nil || len(slots) > 0 {
		return err
	}
	y, m, d := time.Now().In(chinaTime).AddDate(0, 0, 1).Date()
	start := time.Date(y, m, d, 9, 0, 0, 0, chinaTime)
	title := "刘镇长 视频约访 " + start.Format("2006-01-02 15:04")
	_, err = st.AddSlot(ctx, store.Slot{Centre: "east", Leader: "east-leader", StartsAt: start, EndsAt: start.Add(3 * time.Hour), Capacity: 10, CreatedBy: "east-leader"},
		title, title, "s-"+randomCode(10))
	return err
}
