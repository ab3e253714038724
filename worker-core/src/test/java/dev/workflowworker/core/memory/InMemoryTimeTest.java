package dev.workflowworker.core.memory;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Delayed events and schedules on the in-memory transport, stepped through with a fake clock. */
class InMemoryTimeTest {

    private final FakeClock clock = new FakeClock(Instant.parse("2026-12-06T10:00:00Z"));

    private InMemoryEventTransport transport(boolean ordered) {
        return InMemoryEventTransport.builder().timeSource(clock).ordered(ordered).build();
    }

    private static WorkflowEvent event(String id, String execution) {
        return WorkflowEvent.builder("T").eventId(id).executionId(execution).build();
    }

    /** Reads without waiting and completes what it read, as a worker would; returns the event ids in order. */
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

    @ParameterizedTest(name = "ordered={0}")
    @ValueSource(booleans = {true, false})
    void aDelayedEventWaitsForItsDueTimeThenJoinsItsExecutionBehindWhatIsThere(boolean ordered) throws Exception {
        InMemoryEventTransport t = transport(ordered);
        DelayedEvents delayed = t.delayed().orElseThrow();
        EventTransport.Consumer c = t.openConsumer("c");
        t.publish(event("a", "x"));
        assertEquals("d", delayed.publishAfter(event("d", "x"), Duration.ofMinutes(5)));
        assertEquals(1, delayed.waiting());
        assertEquals(List.of("a"), drain(c));

        clock.advance(Duration.ofMinutes(5).minusMillis(1));
        assertEquals(List.of(), drain(c), "not due yet");
        clock.advance(Duration.ofMillis(1));
        t.publish(event("b", "x"));
        assertEquals(List.of("d", "b"), drain(c), "due before b was published, so ahead of it");
        assertEquals(0, delayed.waiting());
    }

    @Test
    void cancelAndRescheduleAnswerWhetherTheEventWasStillWaiting() throws Exception {
        InMemoryEventTransport t = transport(true);
        DelayedEvents delayed = t.delayed().orElseThrow();
        EventTransport.Consumer c = t.openConsumer("c");
        Instant in10 = clock.instant().plusSeconds(600);
        delayed.publishAt(event("cancelled", "x"), in10);
        delayed.publishAt(event("moved", "y"), in10);
        delayed.publishAt(event("kept", "z"), in10);
        assertTrue(delayed.cancel("cancelled"));
        assertFalse(delayed.cancel("cancelled"), "already cancelled");
        assertTrue(delayed.reschedule("moved", clock.instant().plusSeconds(60)));
        assertFalse(delayed.reschedule("unknown", in10));

        clock.advance(Duration.ofSeconds(60));
        assertEquals(List.of("moved"), drain(c));
        assertFalse(delayed.cancel("moved"), "already in the stream");
        clock.advance(Duration.ofSeconds(540));
        assertEquals(List.of("kept"), drain(c));
        clock.advance(Duration.ofHours(1));
        assertEquals(List.of(), drain(c), "the cancelled one never runs");
    }

    @Test
    void aDelayedEventCarriesItsDueTimeAsMovedLast() throws Exception {
        InMemoryEventTransport t = transport(true);
        DelayedEvents delayed = t.delayed().orElseThrow();
        delayed.publishAt(event("e", "x"), clock.instant().plusSeconds(60));
        delayed.reschedule("e", clock.instant().plusSeconds(30));
        clock.advance(Duration.ofSeconds(30));
        List<Delivery> got = t.openConsumer("c").read(10, Duration.ZERO);
        assertEquals(Instant.parse("2026-12-06T10:00:30Z").toString(),
                got.get(0).event().headers().get(DelayedEvents.DUE_AT_HEADER));
    }

    @Test
    void aRepeatedPublishOfAWaitingEventChangesNothing() throws Exception {
        InMemoryEventTransport t = transport(true);
        DelayedEvents delayed = t.delayed().orElseThrow();
        delayed.publishAt(event("e", "x"), clock.instant().plusSeconds(10));
        delayed.publishAt(event("e", "x"), clock.instant().plusSeconds(1));
        assertEquals(1, delayed.waiting());
        clock.advance(Duration.ofSeconds(5));
        EventTransport.Consumer c = t.openConsumer("c");
        assertEquals(List.of(), drain(c), "the first publish's due time holds");
        clock.advance(Duration.ofSeconds(5));
        assertEquals(List.of("e"), drain(c));
    }

    @ParameterizedTest(name = "ordered={0}")
    @ValueSource(booleans = {true, false})
    void anEarlierInsertWakesABlockedReader(boolean ordered) throws Exception {
        // Real time here: the reader blocks for up to a minute and must come back when the event is due.
        InMemoryEventTransport t = InMemoryEventTransport.builder().ordered(ordered).build();
        EventTransport.Consumer c = t.openConsumer("c");
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try {
            Future<List<Delivery>> read = reader.submit(() -> {
                List<Delivery> got = List.of();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (got.isEmpty() && System.nanoTime() < until) {
                    got = c.read(10, Duration.ofSeconds(60));
                }
                return got;
            });
            t.delayed().orElseThrow().publishAfter(event("soon", "x"), Duration.ofMillis(50));
            List<Delivery> got = read.get(30, TimeUnit.SECONDS);
            assertEquals("soon", got.get(0).eventId());
        } finally {
            reader.shutdownNow();
        }
    }

    @Test
    void aScheduleFiresEachOccurrenceOnceWithItsInstantInTheEventId() throws Exception {
        InMemoryEventTransport t = transport(true);
        Schedules schedules = t.schedules().orElseThrow();
        EventTransport.Consumer c = t.openConsumer("c");
        ScheduleInfo info = schedules.put(Schedule.every("tick", Duration.ofMinutes(1)).eventType("TICK").build());
        assertEquals(Instant.parse("2026-12-06T10:01:00Z"), info.nextFire());
        assertEquals(List.of(Instant.parse("2026-12-06T10:01:00Z"), Instant.parse("2026-12-06T10:02:00Z")),
                schedules.nextFireTimes("tick", 2));

        List<String> fired = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(30));
            fired.addAll(drain(c));
        }
        long m1 = Instant.parse("2026-12-06T10:01:00Z").toEpochMilli();
        assertEquals(List.of("tick:" + m1, "tick:" + (m1 + 60_000)), fired);
        ScheduleInfo after = schedules.get("tick").orElseThrow();
        assertEquals(2, after.fired());
        assertEquals(Instant.ofEpochMilli(m1 + 60_000), after.lastFire());
    }

    @Test
    void aMissedStretchFiresOnceByDefaultAndIsCounted() throws Exception {
        InMemoryEventTransport t = transport(true);
        EventTransport.Consumer c = t.openConsumer("c");
        t.schedules().orElseThrow().put(Schedule.every("tick", Duration.ofMinutes(1)).eventType("TICK").build());
        clock.advance(Duration.ofMinutes(10).plusSeconds(30)); // nobody read for ten and a half minutes
        List<String> fired = drain(c);
        long m9 = Instant.parse("2026-12-06T10:09:00Z").toEpochMilli();
        long m10 = Instant.parse("2026-12-06T10:10:00Z").toEpochMilli();
        assertEquals(List.of("tick:" + m9, "tick:" + m10), fired, "10:01-10:09 missed (fired once, as 10:09); 10:10 on time");
        assertEquals(8, t.schedules().orElseThrow().get("tick").orElseThrow().skipped());
    }

    @Test
    void pauseResumeTriggerAndDelete() throws Exception {
        InMemoryEventTransport t = transport(true);
        Schedules schedules = t.schedules().orElseThrow();
        EventTransport.Consumer c = t.openConsumer("c");
        schedules.put(Schedule.every("tick", Duration.ofMinutes(1)).eventType("TICK")
                .misfire(Schedule.Misfire.SKIP).misfireThreshold(Duration.ofSeconds(10)).build());
        assertTrue(schedules.pause("tick"));
        assertTrue(schedules.get("tick").orElseThrow().schedule().paused());
        clock.advance(Duration.ofMinutes(3).plusSeconds(30));
        assertEquals(List.of(), drain(c), "paused");
        assertTrue(schedules.resume("tick"));
        assertEquals(List.of(), drain(c), "what came due while paused is missed, and skipped by the policy");
        assertEquals(3, schedules.get("tick").orElseThrow().skipped());

        String triggered = schedules.triggerNow("tick").orElseThrow();
        assertTrue(triggered.startsWith("tick:trigger:"), triggered);
        assertEquals(List.of(triggered), drain(c));
        assertEquals(0, schedules.get("tick").orElseThrow().fired(), "a trigger is outside the schedule's count");

        assertTrue(schedules.delete("tick"));
        assertFalse(schedules.delete("tick"));
        assertTrue(schedules.get("tick").isEmpty());
        assertTrue(schedules.triggerNow("tick").isEmpty());
        clock.advance(Duration.ofMinutes(5));
        assertEquals(List.of(), drain(c));
    }

    @Test
    void overlapSkipAndBufferOneWaitForThePreviousOccurrence() throws Exception {
        InMemoryEventTransport t = transport(true);
        EventTransport.Consumer c = t.openConsumer("c");
        t.schedules().orElseThrow().put(Schedule.every("skip", Duration.ofMinutes(1)).eventType("T").executionId("s")
                .overlap(Schedule.Overlap.SKIP).build());
        t.schedules().orElseThrow().put(Schedule.every("buffer", Duration.ofMinutes(1)).eventType("T").executionId("b")
                .overlap(Schedule.Overlap.BUFFER_ONE).build());

        clock.advance(Duration.ofMinutes(1));
        List<Delivery> first = c.read(10, Duration.ZERO);
        assertEquals(2, first.size(), "both fire at 10:01");
        // Neither completes; 10:02 and 10:03 come due.
        clock.advance(Duration.ofMinutes(1));
        assertEquals(List.of(), c.read(10, Duration.ZERO));
        clock.advance(Duration.ofMinutes(1));
        assertEquals(List.of(), c.read(10, Duration.ZERO));
        assertEquals(2, t.schedules().orElseThrow().get("skip").orElseThrow().skipped());
        assertEquals(1, t.schedules().orElseThrow().get("buffer").orElseThrow().skipped(), "10:02 buffered, 10:03 skipped");

        c.complete(first);
        List<String> next = drain(c);
        long m2 = Instant.parse("2026-12-06T10:02:00Z").toEpochMilli();
        assertEquals(List.of("buffer:" + m2), next, "the buffered one fires once its predecessor completed");
    }

    @Test
    void aDeadLetteredOccurrenceCountsAsFinished() throws Exception {
        InMemoryEventTransport t = transport(true);
        EventTransport.Consumer c = t.openConsumer("c");
        t.schedules().orElseThrow().put(Schedule.every("s", Duration.ofMinutes(1)).eventType("T")
                .overlap(Schedule.Overlap.SKIP).build());
        clock.advance(Duration.ofMinutes(1));
        List<Delivery> first = c.read(10, Duration.ZERO);
        c.deadLetter(first.get(0), new DeadLetter(ErrorCategory.PERMANENT, "boom", null, 1, "w", clock.instant()));
        clock.advance(Duration.ofMinutes(1));
        assertEquals(1, drain(c).size());
        assertEquals(0, t.schedules().orElseThrow().get("s").orElseThrow().skipped());
    }

    @Test
    void aCronScheduleFollowsItsZoneThroughTheSpringGap() throws Exception {
        FakeClock berlinClock = new FakeClock(Instant.parse("2027-03-26T12:00:00Z"));
        InMemoryEventTransport t = InMemoryEventTransport.builder().timeSource(berlinClock).build();
        EventTransport.Consumer c = t.openConsumer("c");
        t.schedules().orElseThrow().put(Schedule.cron("nightly", "30 2 * * *").zone("Europe/Berlin").eventType("T").build());
        List<String> fired = new ArrayList<>();
        for (int h = 0; h < 4 * 24; h++) {
            berlinClock.advance(Duration.ofHours(1));
            fired.addAll(drain(c));
        }
        assertEquals(List.of("nightly:" + Instant.parse("2027-03-27T01:30:00Z").toEpochMilli(),
                "nightly:" + Instant.parse("2027-03-28T01:30:00Z").toEpochMilli(),
                "nightly:" + Instant.parse("2027-03-29T00:30:00Z").toEpochMilli(),
                "nightly:" + Instant.parse("2027-03-30T00:30:00Z").toEpochMilli()), fired);
    }

    @Test
    void aReplacedScheduleKeepsItsPlaceUnlessItsTimingChanged() {
        InMemoryEventTransport t = transport(true);
        Schedules schedules = t.schedules().orElseThrow();
        schedules.put(Schedule.every("s", Duration.ofMinutes(10)).eventType("T").build());
        clock.advance(Duration.ofMinutes(4));
        ScheduleInfo renamed = schedules.put(Schedule.every("s", Duration.ofMinutes(10)).eventType("T2").build());
        assertEquals(Instant.parse("2026-12-06T10:10:00Z"), renamed.nextFire());
        ScheduleInfo retimed = schedules.put(Schedule.every("s", Duration.ofMinutes(3)).eventType("T2").build());
        assertEquals(Instant.parse("2026-12-06T10:06:00Z"), retimed.nextFire());
        assertNull(retimed.lastFire());
        assertEquals(1, schedules.list().size());
    }
}
