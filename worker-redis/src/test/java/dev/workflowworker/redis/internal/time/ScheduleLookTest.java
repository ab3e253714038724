package dev.workflowworker.redis.internal.time;

import dev.workflowworker.core.schedule.FireTimes;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleState;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Where a schedule's place in the due set goes: its score is when the owner looks at it next. */
class ScheduleLookTest {

    private static final long NOW = 1_000_000;

    private static FireTimes times(boolean paused) {
        return FireTimes.of(Schedule.every("s", Duration.ofSeconds(1)).eventType("T")
                .overlap(Schedule.Overlap.BUFFER_ONE).limit(2).paused(paused).build());
    }

    @Test
    void anOccurrenceBufferedAfterTheLastIsStillLookedAt() {
        // Fired its limit's worth, the second buffered behind the first: nothing else is due.
        ScheduleState st = ScheduleState.decode(FireTimes.NONE + ",2,0,999000,1000000,=s:999000");
        assertEquals(NOW + ScheduleStore.BUFFERED_LOOK_MS, ScheduleStore.lookAt(st, times(false), NOW),
                "looked at soon, or the buffered occurrence would never fire");
        assertEquals(-1, ScheduleStore.lookAt(st, times(true), NOW), "paused: not looked at");
    }

    @Test
    void aScheduleWithNothingLeftLeavesTheDueSet() {
        ScheduleState st = ScheduleState.decode(FireTimes.NONE + ",2,0,999000," + FireTimes.NONE + ",=s:999000");
        assertEquals(-1, ScheduleStore.lookAt(st, times(false), NOW));
    }

    @Test
    void aBufferedOccurrenceDoesNotDelayTheNextDue() {
        ScheduleState st = ScheduleState.decode("1000050,1,0,999000,1000000,=s:999000");
        assertEquals(1000050, ScheduleStore.lookAt(st, times(false), NOW));
    }
}
