package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * What the owner's timers do when something went wrong outside them, on a real Redis: a wake
 * that never came is made up by the owner's once-a-second look, and a schedule whose stored
 * definition cannot be read is left out of a list and replaced by a put, and a step of the wall
 * clock loses no partition lease. Judged from the handlers' ledger.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionTimeFaultsTest {

    private static final int PARTITIONS = 4;
    private final List<WorkerService> services = new ArrayList<>();
    private final List<String> ledger = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    private RedisOptions options(RedisServer redis) {
        return redis.options().partitions(PARTITIONS).partitionLeaseTtl(Duration.ofSeconds(2)).build();
    }

    private WorkerService service(RedisOptions options) {
        WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("STEP", ctx -> ledger.add(ctx.event().eventId())).build())
                .workerCount(1).pollInterval(Duration.ofMillis(200)).build();
        services.add(s);
        s.start();
        return s;
    }

    @Test
    void aDelayedEventMadeDueWithoutAWakeRunsByTheOwnersNextLook(RedisServer redis) {
        RedisOptions options = options(redis);
        WorkerService s = service(options);
        WorkflowEvent e = WorkflowEvent.builder("STEP").eventId("quiet").executionId("exec-q").build();
        s.delayed().orElseThrow().publishAfter(e, Duration.ofHours(1));
        // Once this one ran, the owner has looked at the partition since "quiet" was stored, and
        // sleeps towards "quiet"'s hour.
        s.delayed().orElseThrow().publishAfter(WorkflowEvent.builder("STEP").eventId("marker").executionId("exec-q")
                .build(), Duration.ofMillis(300));
        Await.until(Duration.ofSeconds(10), () -> ledger.contains("marker"), () -> "the marker ran: " + ledger);
        int p = PartitionRouting.partitionOf("exec-q", PARTITIONS);
        try (RedisClient c = redis.client()) {
            // What a wake lost on the way looks like to the owner: the earliest due time moved
            // and nobody said so. The owner last heard "nothing for an hour".
            long redisNow = (Long) c.eval("local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)");
            assertEquals(0L, c.zadd(TestKeys.partitionStream(options, p) + ":delayed", redisNow + 100, "quiet"),
                    "the event's place was updated, not added");
        }
        Await.until(Duration.ofSeconds(10), () -> ledger.contains("quiet"),
                () -> "the event made due without a wake ran: " + ledger);
    }

    @Test
    void anUnreadableStoredDefinitionIsLeftOutOfTheListAndReplacedByAPut(RedisServer redis) {
        RedisOptions options = options(redis);
        WorkerService s = service(options);
        var schedules = s.schedules().orElseThrow();
        Schedule good = Schedule.every("good", Duration.ofHours(1)).eventType("STEP").build();
        Schedule bad = Schedule.every("bad", Duration.ofHours(1)).eventType("STEP").build();
        schedules.put(good);
        schedules.put(bad);
        int p = PartitionRouting.partitionOf("bad", PARTITIONS);
        try (RedisClient c = redis.client()) {
            c.hset(TestKeys.partitionStream(options, p) + ":sched", "bad", "{not a schedule");
        }
        assertEquals(List.of("good"), schedules.list().stream().map(i -> i.schedule().id()).toList(),
                "one unreadable schedule does not hide the others");

        Schedule repaired = Schedule.every("bad", Duration.ofSeconds(1)).eventType("STEP")
                .payload(Map.of("v", 2)).limit(1).build();
        ScheduleInfo info = schedules.put(repaired);
        assertEquals(repaired.interval(), info.schedule().interval());
        assertEquals(List.of("bad", "good"), schedules.list().stream().map(i -> i.schedule().id()).toList());
        Await.until(Duration.ofSeconds(10), () -> ledger.stream().anyMatch(id -> id.startsWith("bad:")),
                () -> "the repaired schedule fired: " + ledger);
        long fired = ledger.stream().filter(id -> id.startsWith("bad:")).count();
        assertEquals(1, fired, "its run limit holds");
    }

    @Test
    void anHourForwardOnTheWallClockLosesNoLeaseAndStopsNoHandler(RedisServer redis) {
        AtomicLong step = new AtomicLong();
        TimeSource stepped = new TimeSource() {
            @Override
            public long wallMillis() {
                return System.currentTimeMillis() + step.get();
            }

            @Override
            public long nanoTime() {
                return System.nanoTime();
            }
        };
        RedisOptions options = options(redis);
        RedisEventTransport t = RedisEventTransport.create(options, stepped);
        List<Boolean> leaseLostSeen = new CopyOnWriteArrayList<>();
        List<Long> tokens = new CopyOnWriteArrayList<>();
        WorkerService s = WorkerService.builder().transport(t).timeSource(stepped)
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    leaseLostSeen.add(ctx.isCancelled());
                    tokens.add(ctx.fencingToken());
                    ledger.add(ctx.event().eventId());
                }).build())
                .workerCount(1).pollInterval(Duration.ofMillis(200)).build();
        services.add(s);
        s.start();
        Await.until(Duration.ofSeconds(10), () -> t.ownership().orElseThrow().owned().size() == PARTITIONS,
                () -> "holds every partition: " + t.ownership());

        t.publish(WorkflowEvent.builder("STEP").eventId("before-step").executionId("exec-s").build());
        Await.until(Duration.ofSeconds(10), () -> ledger.contains("before-step"), () -> "ran: " + ledger);
        String fence = TestKeys.partitionStream(options, PartitionRouting.partitionOf("exec-s", PARTITIONS)) + ":fence";
        String tokenBefore;
        try (RedisClient c = redis.client()) {
            tokenBefore = c.get(fence);
        }
        try (OutputCapture log = new OutputCapture()) {
            step.set(3_600_000); // NTP corrects an hour, or an operator sets the date
            t.publish(WorkflowEvent.builder("STEP").eventId("after-step").executionId("exec-s").build());
            Await.until(Duration.ofSeconds(10), () -> ledger.contains("after-step"), () -> "ran: " + ledger);
            assertFalse(log.text().contains("lease lost"), "no delivery was taken for one under a lost lease:\n"
                    + log.text());
        }
        assertEquals(List.of(false, false), leaseLostSeen, "neither handler was cancelled");
        assertEquals(tokens.get(0), tokens.get(1), "the same lease before and after the step (its fencing token)");
        // Two lease lifetimes of ownership rounds: a lease judged by the wall clock would be given
        // up at the first one, and the partition taken again.
        long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        while (System.nanoTime() < end) {
            assertEquals(PARTITIONS, t.ownership().orElseThrow().owned().size(), "a partition was given up");
            assertFalse(t.ownership().orElseThrow().renewalFailing());
            Thread.onSpinWait();
        }
        try (RedisClient c = redis.client()) {
            assertEquals(tokenBefore, c.get(fence), "the partition's lease was never taken again (no new fencing token)");
        }
    }
}
