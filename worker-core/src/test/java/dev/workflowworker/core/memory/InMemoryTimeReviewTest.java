package dev.workflowworker.core.memory;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Review of issue K's first slice: in-memory timers' promises that do not hold. */
class InMemoryTimeReviewTest {

    private final FakeClock clock = new FakeClock(Instant.parse("2026-12-06T10:00:00Z"));

    private InMemoryEventTransport transport() {
        return InMemoryEventTransport.builder().timeSource(clock).ordered(true).build();
    }

    private static List<String> drain(EventTransport.Consumer c) throws InterruptedException {
        List<String> ids = new ArrayList<>();
        while (true) {
            List<Delivery> batch = c.read(100, Duration.ZERO);
            if (batch.isEmpty()) {
                return ids;
            }
            for (Delivery d : batch) {
                ids.add(d.eventId());
            }
            c.complete(batch);
        }
    }

    private static long ms(String utc) {
        return Instant.parse(utc).toEpochMilli();
    }

    /**
     * triggerNow names its occurrence {@code id:now}: a trigger at a scheduled instant publishes the
     * very id of that instant's occurrence (and two triggers in one millisecond share one), so
     * exactly-once de-duplication drops one of two distinct firings.
     */
    @Test
    void aTriggerNeverSharesAnOccurrenceIdWithAScheduledOccurrenceOrAnotherTrigger() throws Exception {
        InMemoryEventTransport t = transport();
        Schedules schedules = t.schedules().orElseThrow();
        EventTransport.Consumer c = t.openConsumer("c");
        schedules.put(Schedule.every("tick", Duration.ofMinutes(1)).eventType("TICK").build());
        clock.advance(Duration.ofMinutes(1)); // 10:01:00.000, the scheduled instant
        String a = schedules.triggerNow("tick").orElseThrow();
        String b = schedules.triggerNow("tick").orElseThrow();
        assertNotEquals(a, b, "two triggers, two occurrences");
        List<String> ids = drain(c);
        assertEquals(3, ids.size());
        assertEquals(3, new HashSet<>(ids).size(), "scheduled 10:01 and the triggers must not share an id: " + ids);
    }

    /**
     * A replaced schedule keeps its place unless its timing changed; but a schedule that ran out its
     * limit has no place (next = NONE), and a put raising the limit with the same timing keeps that:
     * the schedule stays dead although it may fire again.
     */
    @Test
    void raisingTheLimitOfAnExhaustedScheduleLetsItFireAgain() throws Exception {
        InMemoryEventTransport t = transport();
        Schedules schedules = t.schedules().orElseThrow();
        EventTransport.Consumer c = t.openConsumer("c");
        Schedule.Builder b = Schedule.every("l", Duration.ofMinutes(1)).eventType("T");
        schedules.put(b.limit(1).build());
        clock.advance(Duration.ofMinutes(1));
        assertEquals(1, drain(c).size());
        assertEquals(null, schedules.get("l").orElseThrow().nextFire());

        schedules.put(b.limit(3).build());
        assertNotNull(schedules.get("l").orElseThrow().nextFire(), "limit raised: it has a next fire again");
        clock.advance(Duration.ofMinutes(1));
        assertEquals(List.of("l:" + ms("2026-12-06T10:02:00Z")), drain(c));
    }

    /** A paused schedule "keeps its place but fires nothing"; its buffered occurrence fires anyway. */
    @Test
    void aPausedScheduleDoesNotFireItsBufferedOccurrence() throws Exception {
        InMemoryEventTransport t = transport();
        Schedules schedules = t.schedules().orElseThrow();
        EventTransport.Consumer c = t.openConsumer("c");
        schedules.put(Schedule.every("b", Duration.ofMinutes(1)).eventType("T").executionId("x")
                .overlap(Schedule.Overlap.BUFFER_ONE).build());
        clock.advance(Duration.ofMinutes(1));
        List<Delivery> first = c.read(10, Duration.ZERO);
        assertEquals(1, first.size());
        clock.advance(Duration.ofMinutes(1));
        assertEquals(List.of(), c.read(10, Duration.ZERO), "10:02 buffered behind the running 10:01");
        schedules.pause("b");
        c.complete(first);
        assertEquals(List.of(), drain(c), "paused: the buffered 10:02 must not fire");
    }

    /**
     * runDue moves every due delayed event before it fires any due occurrence, whatever their due
     * times: after a stretch with no read or publish, a delayed event due at 10:01:30 lands ahead of
     * the same execution's occurrence due at 10:01:00.
     */
    @Test
    void dueDelayedEventsAndOccurrencesJoinTheirExecutionInDueOrder() throws Exception {
        InMemoryEventTransport t = transport();
        EventTransport.Consumer c = t.openConsumer("c");
        t.schedules().orElseThrow().put(Schedule.every("tick", Duration.ofMinutes(1)).eventType("TICK").executionId("x").build());
        DelayedEvents delayed = t.delayed().orElseThrow();
        delayed.publishAt(WorkflowEvent.builder("T").eventId("d").executionId("x").build(),
                Instant.parse("2026-12-06T10:01:30Z"));
        clock.advance(Duration.ofMinutes(2)); // nobody read between 10:00 and 10:02
        assertEquals(List.of("tick:" + ms("2026-12-06T10:01:00Z"), "d", "tick:" + ms("2026-12-06T10:02:00Z")),
                drain(c));
    }
    /**
     * Lost wake-up: a read computes how long it may wait from the timers ({@code bound}), then waits
     * on the sequencer (or shared queue) from a signal count it reads only then. A publishAt of an
     * earlier event that lands between the two bumps the count before it is read: the read sleeps
     * the whole old bound and the event is late by up to maxWait. The hook below publishes at the
     * instant the reader has fixed its bound (the same outcome as another thread publishing right
     * after bound() returns).
     */
    @Test
    void anEarlierInsertWhileAReaderComputesItsWaitStillWakesIt() throws Exception {
        java.util.concurrent.atomic.AtomicReference<Runnable> hook = new java.util.concurrent.atomic.AtomicReference<>();
        dev.workflowworker.core.TimeSource spying = new dev.workflowworker.core.TimeSource() {
            @Override
            public long wallMillis() {
                if (hook.get() != null && StackWalker.getInstance().walk(f -> f.anyMatch(
                        x -> x.getMethodName().equals("millisUntilNext")))) {
                    Runnable r = hook.getAndSet(null);
                    if (r != null) {
                        r.run();
                    }
                }
                return clock.wallMillis();
            }

            @Override
            public long nanoTime() {
                return clock.nanoTime();
            }
        };
        for (boolean ordered : new boolean[] {true, false}) {
            InMemoryEventTransport t = InMemoryEventTransport.builder().timeSource(spying).ordered(ordered).build();
            DelayedEvents delayed = t.delayed().orElseThrow();
            EventTransport.Consumer c = t.openConsumer("c");
            delayed.publishAfter(WorkflowEvent.builder("T").eventId("far").build(), Duration.ofHours(1));
            hook.set(() -> delayed.publishAfter(WorkflowEvent.builder("T").eventId("near").build(),
                    Duration.ofMillis(200)));
            long t0 = System.nanoTime();
            c.read(10, Duration.ofSeconds(3));
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(null, hook.get(), "the hook ran");
            org.junit.jupiter.api.Assertions.assertTrue(waitedMs < 1500,
                    "ordered=" + ordered + ": the read slept " + waitedMs + " ms although an event was due in 200 ms");
        }
    }
}
