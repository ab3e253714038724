package dev.workflowworker.redis;

import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recurring schedules on the shared stream ({@code partitions(0)}), on a real Redis: with two
 * processes racing to fire, each occurrence completes once; the overlap policy sees a slow
 * occurrence running and a dead-lettered one finished; after every process was down the misfire
 * policy decides what the missed occurrences do; the API creates, reads, pauses, triggers and
 * deletes. Judged from the ledger the handlers write.
 */
@ExtendWith(RedisServerExtension.class)
class SharedSchedulesTest {

    private final List<WorkerService> services = new ArrayList<>();
    /** Every event id the handlers completed, in completion order. */
    private final List<String> ledger = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    /**
     * A stream of this test's own: a transport another test left consuming the default stream
     * would move and fire this test's events.
     */
    private final String stream = "shared-time-" + java.util.UUID.randomUUID();

    private RedisOptions options(RedisServer redis) {
        return redis.options().stream(stream).partitions(0).build();
    }

    private WorkerService service(RedisServer redis, Consumer<WorkflowEvent> work) {
        RedisEventTransport t = RedisEventTransport.create(options(redis));
        WorkerService s = WorkerService.builder().transport(t).lockProvider(t.locks())
                .runtime(ActionRuntime.builder().on("TICK", ctx -> {
                    work.accept(ctx.event());
                    ledger.add(ctx.event().eventId());
                }).build())
                .workerCount(2).pollInterval(Duration.ofMillis(200)).build();
        services.add(s);
        s.start();
        return s;
    }

    private static Schedule.Builder everySecond(String id) {
        return Schedule.every(id, Duration.ofSeconds(1)).eventType("TICK").payload(Map.of("k", "v"));
    }

    /** The scheduled instants of the ledger's occurrences of schedule {@code id}, in completion order. */
    private List<Long> occurrences(String id) {
        List<Long> out = new ArrayList<>();
        for (String e : ledger) {
            if (e.startsWith(id + ":") && !e.contains(":trigger:")) {
                out.add(Long.parseLong(e.substring(id.length() + 1)));
            }
        }
        return out;
    }

    private static long redisMillis(RedisClient c) {
        return (Long) c.eval("local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)");
    }

    @Test
    void twoProcessesFiringOneScheduleCompleteEachOccurrenceOnce(RedisServer redis) {
        WorkerService a = service(redis, e -> { });
        WorkerService b = service(redis, e -> { });
        a.schedules().orElseThrow().put(everySecond("tick").build());
        Await.until(Duration.ofSeconds(20), () -> occurrences("tick").size() >= 6, () -> "six fired: " + ledger);
        b.schedules().orElseThrow().pause("tick");
        ScheduleInfo info = a.schedules().orElseThrow().get("tick").orElseThrow();
        Await.until(Duration.ofSeconds(10), () -> occurrences("tick").size() >= info.fired(),
                () -> "every occurrence fired ran: " + ledger + ", fired " + info.fired());
        List<Long> fired = occurrences("tick");
        assertEquals(new HashSet<>(fired).size(), fired.size(), "no occurrence twice: " + fired);
        assertEquals(info.fired(), fired.size(), "each fired occurrence ran once");
        List<Long> sorted = fired.stream().sorted().toList();
        for (long x : sorted) {
            assertEquals(0, x % 1000, "on the second: " + sorted);
        }
        long span = (sorted.get(sorted.size() - 1) - sorted.get(0)) / 1000 + 1;
        assertEquals(span, fired.size() + info.skipped(),
                "every second between the first and the last either ran or was counted skipped: " + sorted);
    }

    @Test
    void theOverlapPolicySeesASlowOccurrenceRunning(RedisServer redis) {
        CountDownLatch release = new CountDownLatch(1);
        List<String> startedSlow = new CopyOnWriteArrayList<>();
        WorkerService s = service(redis, e -> {
            startedSlow.add(e.eventId());
            if (startedSlow.size() == 1) {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Schedules schedules = s.schedules().orElseThrow();
        schedules.put(everySecond("slow").overlap(Schedule.Overlap.SKIP).build());
        Await.until(Duration.ofSeconds(15), () -> schedules.get("slow").orElseThrow().skipped() >= 2,
                () -> "skipped while the first runs: " + schedules.get("slow"));
        assertEquals(1, startedSlow.size(), "nothing started beside the first: " + startedSlow);
        release.countDown();
        Await.until(Duration.ofSeconds(15), () -> occurrences("slow").size() >= 2, () -> "went on: " + ledger);
        schedules.pause("slow");
    }

    /**
     * A dead-lettered occurrence writes no processed marker (a replay must still run): without
     * its dead marker the overlap policy would take it for running, and skip every later one.
     */
    @Test
    void aDeadLetteredOccurrenceCountsAsFinished(RedisServer redis) {
        List<String> attempts = new CopyOnWriteArrayList<>();
        WorkerService s = service(redis, e -> {
            attempts.add(e.eventId());
            if (attempts.size() == 1) {
                throw new PermanentWorkflowException("the first occurrence fails for good");
            }
        });
        Schedules schedules = s.schedules().orElseThrow();
        schedules.put(everySecond("dl").overlap(Schedule.Overlap.SKIP).build());
        Await.until(Duration.ofSeconds(15), () -> occurrences("dl").size() >= 2,
                () -> "later occurrences ran after the first was dead-lettered: " + attempts + ", "
                        + schedules.get("dl"));
        schedules.pause("dl");
        String dead = attempts.get(0);
        assertFalse(ledger.contains(dead), "the first never completed");
        try (RedisClient c = redis.client()) {
            assertEquals(1, c.xlen(options(redis).deadLetterStream()), "it was dead-lettered");
            assertFalse(c.exists(TestKeys.processedKey(options(redis), dead)), "with no processed marker");
        }
    }

    /**
     * Every process is down for several occurrences; the next to start applies the misfire
     * policy: {@code FIRE_ONCE} runs one occurrence for those missed by more than the threshold
     * and counts the others skipped.
     */
    @Test
    void afterEveryProcessWasDownTheMissedOccurrencesMeetTheMisfirePolicy(RedisServer redis) {
        WorkerService a = service(redis, e -> { });
        a.schedules().orElseThrow().put(everySecond("m").misfire(Schedule.Misfire.FIRE_ONCE)
                .misfireThreshold(Duration.ofMillis(500)).build());
        Await.until(Duration.ofSeconds(15), () -> occurrences("m").size() >= 1, () -> "one fired: " + ledger);
        a.close();
        try (RedisEventTransport producer = RedisEventTransport.create(options(redis));
             RedisClient c = redis.client()) {
            Schedules schedules = producer.schedules().orElseThrow();
            ScheduleInfo down = schedules.get("m").orElseThrow();
            long last = down.lastFire().toEpochMilli();
            Await.until(Duration.ofSeconds(10), () -> redisMillis(c) > last + 4_000, () -> "four seconds passed");
            assertEquals(down.fired(), schedules.get("m").orElseThrow().fired(), "nothing fired while every worker was down");
            long restart = redisMillis(c);
            WorkerService b = service(redis, e -> { });
            Await.until(Duration.ofSeconds(15), () -> occurrences("m").stream().anyMatch(x -> x > restart + 1_000),
                    () -> "fired on after the restart: " + ledger);
            b.schedules().orElseThrow().pause("m");
            ScheduleInfo after = schedules.get("m").orElseThrow();
            Await.until(Duration.ofSeconds(10), () -> occurrences("m").size() >= after.fired(), () -> "all ran: " + ledger);
            List<Long> ran = occurrences("m").stream().sorted().toList();
            long missedRan = ran.stream().filter(x -> x > last && x <= restart).count();
            assertTrue(missedRan >= 1 && missedRan <= 2, "one run for those missed by more than the threshold (and "
                    + "perhaps one late by less): " + ran + ", down after " + last + ", restarted at " + restart);
            assertTrue(after.skipped() - down.skipped() >= 2, "the others counted skipped: " + after);
            long span = (ran.get(ran.size() - 1) - ran.get(0)) / 1000 + 1;
            assertEquals(span, ran.size() + after.skipped(), "every second either ran once or was counted skipped: " + ran);
        }
    }

    @Test
    void theApiCreatesReadsPausesTriggersAndDeletes(RedisServer redis) {
        WorkerService s = service(redis, e -> { });
        Schedules schedules = s.schedules().orElseThrow();
        Schedule nightly = Schedule.cron("nightly", "30 2 * * *").zone("Europe/Berlin").eventType("TICK")
                .executionId("e1").build();
        ScheduleInfo created = schedules.put(nightly);
        assertEquals(0, created.fired());
        assertEquals(created.nextFire(), schedules.get("nightly").orElseThrow().nextFire());
        List<Instant> next = schedules.nextFireTimes("nightly", 3);
        assertEquals(3, next.size());
        schedules.put(everySecond("other").paused(true).build());
        assertEquals(List.of("nightly", "other"), schedules.list().stream().map(i -> i.schedule().id()).toList());

        assertTrue(schedules.pause("nightly"));
        assertTrue(schedules.get("nightly").orElseThrow().schedule().paused());
        assertTrue(schedules.resume("nightly"));
        assertFalse(schedules.pause("missing"));

        String triggered = schedules.triggerNow("nightly").orElseThrow();
        assertTrue(triggered.startsWith("nightly:trigger:"), triggered);
        Await.until(Duration.ofSeconds(10), () -> ledger.contains(triggered), () -> "triggered ran: " + ledger);

        ScheduleInfo changed = schedules.put(nightly.toBuilder().executionId("e2").build());
        assertEquals(created.nextFire(), changed.nextFire(), "another execution id keeps its place");
        assertEquals("e2", schedules.get("nightly").orElseThrow().schedule().executionId());

        assertTrue(schedules.delete("nightly"));
        assertFalse(schedules.delete("nightly"));
        assertTrue(schedules.get("nightly").isEmpty());
        assertEquals(List.of("other"), schedules.list().stream().map(i -> i.schedule().id()).toList());
    }
}
