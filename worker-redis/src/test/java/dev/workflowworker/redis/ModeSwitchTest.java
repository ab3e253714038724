package dev.workflowworker.redis;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One mode per stream: a start in the other mode is refused before it reads anything, and a
 * drained shared stream is switched to the partitioned mode without running anything that
 * completed again. Runs are judged from a ledger the handlers write.
 */
@ExtendWith(RedisServerExtension.class)
class ModeSwitchTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final List<WorkerService> services = new ArrayList<>();
    /** Per event id, how many times its handler ran. */
    private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    /** Per execution id, the event ids in the order their handlers ran. */
    private final Map<String, List<String>> order = new ConcurrentHashMap<>();

    @AfterEach
    void closeServices() {
        services.forEach(WorkerService::close);
    }

    private static RedisOptions.Builder shared(RedisServer redis) {
        return redis.options().partitions(0);
    }

    private static RedisOptions.Builder partitioned(RedisServer redis, int partitions) {
        return redis.options().partitions(partitions).partitionLeaseTtl(Duration.ofSeconds(2));
    }

    private WorkerService start(RedisOptions options) {
        ActionRuntime runtime = ActionRuntime.builder().on("STEP", ctx -> {
            runs.computeIfAbsent(ctx.event().eventId(), k -> new AtomicInteger()).incrementAndGet();
            List<String> o = order.computeIfAbsent(ctx.event().executionId(), k -> new ArrayList<>());
            synchronized (o) {
                o.add(ctx.event().eventId());
            }
        }).build();
        WorkerService s = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(runtime)
                .workerCount(2)
                .pollInterval(Duration.ofMillis(100))
                .build();
        services.add(s);
        s.start();
        return s;
    }

    private static List<WorkflowEvent> events(String prefix, int executions, int each) {
        List<WorkflowEvent> out = new ArrayList<>();
        for (int i = 0; i < each; i++) {
            for (int e = 0; e < executions; e++) {
                out.add(WorkflowEvent.builder("STEP").eventId(prefix + "-" + e + "-" + i).executionId("exec-" + e)
                        .build());
            }
        }
        return out;
    }

    private boolean ran(List<WorkflowEvent> events) {
        return events.stream().allMatch(e -> runs.containsKey(e.eventId()));
    }

    @Test
    void aPartitionedStartOnASharedStreamIsRefusedAndLeavesNoMark(RedisServer redis) throws Exception {
        RedisOptions sharedOptions = shared(redis).build();
        try (RedisEventTransport t = RedisEventTransport.create(sharedOptions)) {
            t.publish(WorkflowEvent.builder("STEP").eventId("done").build());
            EventTransport.Consumer c = t.openConsumer("c1");
            List<Delivery> got = c.read(1, Duration.ofSeconds(2));
            c.complete(got);
            c.close();
        }
        RedisOptions ordered = partitioned(redis, 4).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RedisEventTransport.create(ordered));
        String m = e.getMessage();
        assertTrue(m.contains("partitioned (ordered) mode") && m.contains("shared (unordered) mode")
                && m.contains(ordered.stream()) && m.contains("switch-to-partitioned")
                && m.contains("WORKER_PARTITIONS=0"), m);
        try (RedisClient c = redis.client()) {
            assertNull(c.get(ordered.partitionCountKey()), "the refused start took back the count it recorded");
            assertFalse(c.xinfoGroups(ordered.stream()).stream().anyMatch(g -> g.getName().equals(ordered.routerGroup())),
                    "no router group was created");
        }
        // The shared mode goes on as before.
        RedisEventTransport.create(sharedOptions).close();
    }

    @Test
    void aSharedStartOnAPartitionedStreamIsRefusedAndLeavesNoGroup(RedisServer redis) {
        RedisOptions ordered = partitioned(redis, 4).build();
        RedisEventTransport.create(ordered).close();
        RedisOptions sharedOptions = shared(redis).build();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RedisEventTransport.create(sharedOptions));
        String m = e.getMessage();
        assertTrue(m.contains("shared (unordered) mode") && m.contains("partitioned (ordered)")
                && m.contains("created with 4 partitions") && m.contains(sharedOptions.stream()), m);
        try (RedisClient c = redis.client()) {
            assertFalse(c.exists(sharedOptions.stream())
                            && c.xinfoGroups(sharedOptions.stream()).stream()
                            .anyMatch(g -> g.getName().equals(sharedOptions.group())),
                    "the refused start removed the group it created");
            // Without the recorded count, the router's group alone is the tell.
            c.del(ordered.partitionCountKey());
            c.xgroupCreate(ordered.stream(), ordered.routerGroup(), StreamEntryID.XGROUP_LAST_ENTRY,
                    true);
        }
        IllegalStateException byRouter = assertThrows(IllegalStateException.class,
                () -> RedisEventTransport.create(sharedOptions));
        assertTrue(byRouter.getMessage().contains("router"), byRouter.getMessage());
    }

    @Test
    void theSwitchIsRefusedWhileAnythingOfTheSharedModeWaits(RedisServer redis) throws Exception {
        RedisOptions sharedOptions = shared(redis).build();
        try (RedisEventTransport t = RedisEventTransport.create(sharedOptions);
             WorkflowAdmin admin = WorkflowAdmin.create(partitioned(redis, 4).build())) {
            assertEquals(0, admin.partitions(), "a stream its shared group reads is shared, whatever the options say");
            t.publish(WorkflowEvent.builder("STEP").eventId("p1").build());
            EventTransport.Consumer c = t.openConsumer("c1");
            List<Delivery> got = c.read(1, Duration.ofSeconds(2));
            IllegalStateException pending = assertThrows(IllegalStateException.class,
                    () -> admin.switchToPartitioned(4));
            assertTrue(pending.getMessage().contains("1 entries are pending"), pending.getMessage());
            c.deadLetter(got.get(0), new dev.workflowworker.api.DeadLetter(dev.workflowworker.api.ErrorCategory.PERMANENT,
                    "bad", "", 1, "c1", java.time.Instant.now()));
            IllegalStateException dead = assertThrows(IllegalStateException.class,
                    () -> admin.switchToPartitioned(4));
            assertTrue(dead.getMessage().contains("dead letters"), dead.getMessage());
            assertEquals(1, admin.purge());
            c.close();
            // The shared stream's delayed events and schedules: the partitions would never read them.
            t.delayed().orElseThrow().publishAfter(WorkflowEvent.builder("STEP").eventId("later").build(),
                    Duration.ofHours(1));
            IllegalStateException delayed = assertThrows(IllegalStateException.class,
                    () -> admin.switchToPartitioned(4));
            assertTrue(delayed.getMessage().contains("1 delayed events wait"), delayed.getMessage());
            assertTrue(t.delayed().orElseThrow().cancel("later"));
            t.schedules().orElseThrow().put(dev.workflowworker.core.schedule.Schedule.every("s", Duration.ofHours(1))
                    .eventType("STEP").build());
            IllegalStateException schedule = assertThrows(IllegalStateException.class,
                    () -> admin.switchToPartitioned(4));
            assertTrue(schedule.getMessage().contains("1 schedules are kept"), schedule.getMessage());
            assertTrue(t.schedules().orElseThrow().delete("s"));
            admin.switchToPartitioned(4);
            assertEquals(4, admin.partitions());
            IllegalStateException twice = assertThrows(IllegalStateException.class,
                    () -> admin.switchToPartitioned(4));
            assertTrue(twice.getMessage().contains("partitioned already"), twice.getMessage());
        }
    }

    @Test
    void afterTheSwitchNothingCompletedRunsAgainAndEveryLaterEventRunsOnceInOrder(RedisServer redis) {
        RedisOptions sharedOptions = shared(redis).build();
        List<WorkflowEvent> before = events("before", 4, 5);
        WorkerService sharedService = start(sharedOptions);
        sharedService.publisher().publishAll(before);
        Await.until(WAIT, () -> ran(before), "the shared workers to complete every event");
        sharedService.close();

        // Published while no worker reads: the shared group's lag, routed after the switch.
        List<WorkflowEvent> between = events("between", 4, 3);
        try (RedisClient c = redis.client()) {
            for (WorkflowEvent e : between) {
                // The seed's format, as a producer that does not use this library writes it.
                c.xadd(sharedOptions.stream(), XAddParams.xAddParams(), Map.of(
                        "event_id", e.eventId(), "execution_id", e.executionId(), "event_name", "STEP",
                        "event_type", "STEP", "payload_json", "{}", "attempt", "1",
                        "timestamp", java.time.Instant.now().toString()));
            }
        }
        try (WorkflowAdmin admin = WorkflowAdmin.create(sharedOptions)) {
            admin.switchToPartitioned(4);
        }
        IllegalStateException back = assertThrows(IllegalStateException.class,
                () -> RedisEventTransport.create(sharedOptions));
        assertTrue(back.getMessage().contains("shared (unordered) mode"), back.getMessage());

        WorkerService ordered = start(partitioned(redis, 4).build());
        Await.until(WAIT, () -> ran(between), "the events published before the switch to run");
        List<WorkflowEvent> after = events("after", 4, 5);
        ordered.publisher().publishAll(after);
        Await.until(WAIT, () -> ran(after), "the events published after the switch to run");

        for (WorkflowEvent e : before) {
            assertEquals(1, runs.get(e.eventId()).get(), e.eventId() + " completed before the switch and ran again");
        }
        for (WorkflowEvent e : between) {
            assertEquals(1, runs.get(e.eventId()).get(), e.eventId() + " ran " + runs.get(e.eventId()) + " times");
        }
        for (WorkflowEvent e : after) {
            assertEquals(1, runs.get(e.eventId()).get(), e.eventId() + " ran " + runs.get(e.eventId()) + " times");
        }
        for (int e = 0; e < 4; e++) {
            List<String> expected = new ArrayList<>();
            for (String prefix : List.of("between", "after")) {
                for (int i = 0; i < (prefix.equals("between") ? 3 : 5); i++) {
                    expected.add(prefix + "-" + e + "-" + i);
                }
            }
            List<String> got = order.get("exec-" + e);
            synchronized (got) {
                assertEquals(expected, got.subList(got.size() - expected.size(), got.size()),
                        "exec-" + e + " ran in publish order after the switch");
            }
        }
    }
}
