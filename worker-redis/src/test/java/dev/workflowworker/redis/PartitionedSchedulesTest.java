package dev.workflowworker.redis;

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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recurring schedules on a partitioned stream, on a real Redis: occurrences fire once each, in
 * order, through a change of owner; the overlap policy sees whether the last occurrence finished;
 * the API creates, reads, pauses, triggers, moves and deletes. Judged from the handlers' ledger.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionedSchedulesTest {

    private final List<WorkerService> services = new ArrayList<>();
    /** Every event id the handlers saw, in start order. */
    private final List<String> ledger = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    private WorkerService service(RedisServer redis, Consumer<WorkflowEvent> work) {
        RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(4)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build());
        WorkerService s = WorkerService.builder().transport(t)
                .runtime(ActionRuntime.builder().on("TICK", ctx -> {
                    ledger.add(ctx.event().eventId());
                    work.accept(ctx.event());
                }).build())
                .workerCount(2).pollInterval(Duration.ofMillis(200)).build();
        services.add(s);
        s.start();
        return s;
    }

    private static Schedule.Builder everySecond(String id) {
        return Schedule.every(id, Duration.ofSeconds(1)).eventType("TICK").executionId("exec-" + id)
                .payload(Map.of("k", "v"));
    }

    /** The scheduled instants of the ledger's occurrences of schedule {@code id}, in start order. */
    private List<Long> occurrences(String id) {
        List<Long> out = new ArrayList<>();
        for (String e : ledger) {
            if (e.startsWith(id + ":") && !e.contains(":trigger:")) {
                out.add(Long.parseLong(e.substring(id.length() + 1)));
            }
        }
        return out;
    }

    @Test
    void eachOccurrenceFiresOnceInOrderThroughAChangeOfOwner(RedisServer redis) {
        WorkerService a = service(redis, e -> { });
        Schedules schedules = a.schedules().orElseThrow();
        schedules.put(everySecond("tick").build());
        Await.until(Duration.ofSeconds(15), () -> occurrences("tick").size() >= 2, () -> "two fired: " + ledger);
        a.close();
        WorkerService b = service(redis, e -> { });
        int before = occurrences("tick").size();
        Await.until(Duration.ofSeconds(15), () -> occurrences("tick").size() >= before + 2,
                () -> "two more after the hand-over: " + ledger);
        b.schedules().orElseThrow().pause("tick");
        List<Long> fired = occurrences("tick");
        assertEquals(new HashSet<>(fired).size(), fired.size(), "no occurrence twice: " + fired);
        for (int k = 1; k < fired.size(); k++) {
            assertTrue(fired.get(k) > fired.get(k - 1), "in order: " + fired);
            assertEquals(0, fired.get(k) % 1000, "on the second: " + fired);
        }
        ScheduleInfo info = b.schedules().orElseThrow().get("tick").orElseThrow();
        long span = (fired.get(fired.size() - 1) - fired.get(0)) / 1000 + 1;
        assertTrue(info.fired() >= fired.size(), "counted " + info.fired() + ", ran " + fired.size());
        assertEquals(span, fired.size() + info.skipped(),
                "every second between the first and the last either ran or was counted skipped: " + fired);
    }

    @Test
    void theOverlapPolicySeesWhetherTheLastOccurrenceFinished(RedisServer redis) throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        WorkerService s = service(redis, e -> {
            if (occurrences("slow").size() == 1) {
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
        assertEquals(1, occurrences("slow").size(), "nothing ran beside the first: " + ledger);
        release.countDown();
        Await.until(Duration.ofSeconds(15), () -> occurrences("slow").size() >= 2, () -> "went on: " + ledger);
        schedules.pause("slow");
    }

    @Test
    void theApiCreatesReadsPausesTriggersMovesAndDeletes(RedisServer redis) {
        WorkerService s = service(redis, e -> { });
        Schedules schedules = s.schedules().orElseThrow();
        Schedule nightly = Schedule.cron("nightly", "30 2 * * *").zone("Europe/Berlin").eventType("TICK")
                .executionId("e1").build();
        ScheduleInfo created = schedules.put(nightly);
        assertEquals(0, created.fired());
        assertEquals(created.nextFire(), schedules.get("nightly").orElseThrow().nextFire());
        List<Instant> next = schedules.nextFireTimes("nightly", 3);
        assertEquals(3, next.size());
        for (Instant at : next) {
            assertEquals(java.time.LocalTime.of(2, 30), at.atZone(java.time.ZoneId.of("Europe/Berlin")).toLocalTime(), next.toString());
        }
        assertTrue(next.get(0).isBefore(next.get(1)) && next.get(1).isBefore(next.get(2)), next.toString());
        schedules.put(everySecond("other").paused(true).build());
        assertEquals(List.of("nightly", "other"), schedules.list().stream().map(i -> i.schedule().id()).toList());

        assertTrue(schedules.pause("nightly"));
        assertTrue(schedules.get("nightly").orElseThrow().schedule().paused());
        assertTrue(schedules.resume("nightly"));
        assertFalse(schedules.get("nightly").orElseThrow().schedule().paused());
        assertFalse(schedules.pause("missing"));

        String triggered = schedules.triggerNow("nightly").orElseThrow();
        assertTrue(triggered.startsWith("nightly:trigger:"), triggered);
        Await.until(Duration.ofSeconds(10), () -> ledger.contains(triggered), () -> "triggered ran: " + ledger);
        assertTrue(schedules.triggerNow("missing").isEmpty());

        // A new execution id moves it to that id's partition, its place kept.
        String moved = null;
        for (int k = 0; k < 100 && moved == null; k++) {
            if (PartitionRouting.partitionOf("e-" + k, 4) != PartitionRouting.partitionOf("e1", 4)) {
                moved = "e-" + k;
            }
        }
        ScheduleInfo after = schedules.put(nightly.toBuilder().executionId(moved).build());
        assertEquals(created.nextFire(), after.nextFire());
        assertEquals(moved, schedules.get("nightly").orElseThrow().schedule().executionId());
        assertEquals(2, schedules.list().size(), "moved, not copied");

        assertTrue(schedules.delete("nightly"));
        assertFalse(schedules.delete("nightly"));
        assertTrue(schedules.get("nightly").isEmpty());
        assertEquals(List.of(), schedules.nextFireTimes("nightly", 3));
        assertNotEquals(List.of(), schedules.list());
    }

    @Test
    void aScheduleWhoseOccurrenceIsTooLargeIsRefused(RedisServer redis) {
        RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(4).maxPayloadBytes(1024).build());
        WorkerService s = WorkerService.builder().transport(t)
                .runtime(ActionRuntime.builder().on("TICK", ctx -> { }).build()).build();
        services.add(s);
        Schedules schedules = s.schedules().orElseThrow();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> schedules.put(everySecond("big").payload(Map.of("blob", "x".repeat(4096))).build()));
        assertTrue(e.getMessage().contains("payload"), e.getMessage());
        assertTrue(schedules.list().isEmpty());
    }
}
