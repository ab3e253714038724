package dev.workflowworker.core.schedule;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The state's text form, which the Redis transport compares and swaps: lossless, and strict on what it reads. */
class ScheduleStateTest {

    private static final long T0 = Instant.parse("2026-03-01T10:00:00Z").toEpochMilli();

    @Test
    void theTextHoldsEveryPartOfTheStateAndEqualStatesGiveEqualText() {
        Schedule s = Schedule.every("a:b/c", Duration.ofMinutes(1)).eventType("T")
                .overlap(Schedule.Overlap.BUFFER_ONE).build();
        FireTimes times = FireTimes.of(s);
        ScheduleState st = ScheduleState.starting(times, T0);
        assertEquals(st.encode(), ScheduleState.starting(times, T0).encode());
        // The first fires; the next two find it running: one is buffered, one skipped.
        Set<String> done = new java.util.HashSet<>();
        assertEquals(1, st.fire(times, T0 + 60_000, done::contains).size());
        st.fire(times, T0 + 120_000, done::contains);
        st.fire(times, T0 + 180_000, done::contains);
        assertTrue(st.buffering());

        ScheduleState back = ScheduleState.decode(st.encode());
        assertEquals(st.encode(), back.encode());
        assertEquals(st.info(s), back.info(s));
        assertEquals("a:b/c:" + (T0 + 60_000), back.running());

        done.add(back.running());
        assertEquals(List.of(T0 + 120_000), back.fire(times, T0 + 190_000, done::contains),
                "the buffered one goes once its predecessor finished");
        assertEquals(1, back.info(s).skipped());
    }

    @Test
    void textThatIsNoStateIsRefused() {
        for (String bad : List.of("", "1,2,3", "1,2,3,4,5,x", "a,2,3,4,5,", "1,2,3,4,5,=id,extra\nline".replace(",=", ",x"))) {
            assertThrows(IllegalArgumentException.class, () -> ScheduleState.decode(bad), bad);
        }
    }

    @Test
    void aChangeOfTimingFromALaggingClockNeverGoesBackBeforeTheLastFired() {
        Schedule s = Schedule.every("s", Duration.ofMinutes(1)).eventType("T").build();
        FireTimes times = FireTimes.of(s);
        ScheduleState st = ScheduleState.starting(times, T0);
        assertEquals(List.of(T0 + 60_000), st.fire(times, T0 + 60_000, id -> true));
        // Replaced by a process whose clock is five minutes behind the owner's.
        Schedule faster = Schedule.every("s", Duration.ofSeconds(10)).eventType("T").build();
        FireTimes fasterTimes = FireTimes.of(faster);
        st.replaced(s, fasterTimes, T0 - 300_000);
        assertEquals(T0 + 70_000, st.info(faster).nextFire().toEpochMilli(),
                "after the last fired, not after the lagging clock's now");
    }
}
