package dev.workflowworker.redis;

import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.client.LuaScript;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(RedisServerExtension.class)
class WorkflowAdminTest {

    @Test
    void deadLettersArePagedShownReplayedWithTheSameEventIdAndPurged(RedisServer redis) throws Exception {
        AtomicBoolean broken = new AtomicBoolean(true);
        Set<String> done = ConcurrentHashMap.newKeySet();
        RedisEventTransport transport = RedisEventTransport.create(redis.options().partitions(0).build());
        try (WorkerService s = WorkerService.builder().transport(transport).workerCount(1)
                .pollInterval(Duration.ofMillis(100))
                .runtime(ActionRuntime.builder().on("CHARGE", ctx -> {
                    if (broken.get()) {
                        throw new PermanentWorkflowException("card processor rejected the request");
                    }
                    done.add(ctx.event().eventId());
                }).build()).build();
             WorkflowAdmin admin = WorkflowAdmin.create(redis.options().partitions(0).build())) {
            s.start();
            for (int i = 0; i < 5; i++) {
                s.publisher().publish(WorkflowEvent.builder("CHARGE").eventId("charge-" + i).build());
            }
            Await.until(Duration.ofSeconds(15), () -> admin.deadLetterCount() == 5, "five dead letters");

            List<RedisDeadLetters.Entry> page1 = admin.deadLetters(null, 2);
            List<RedisDeadLetters.Entry> page2 = admin.deadLetters(page1.get(1).id(), 2);
            List<RedisDeadLetters.Entry> page3 = admin.deadLetters(page2.get(1).id(), 2);
            assertEquals(2, page1.size());
            assertEquals(2, page2.size());
            assertEquals(1, page3.size());
            assertTrue(admin.deadLetters(page3.get(0).id(), 2).isEmpty());
            RedisDeadLetters.Entry shown = admin.deadLetter(page1.get(0).id()).orElseThrow();
            assertEquals("card processor rejected the request", shown.errorMessage());
            assertEquals("permanent", shown.errorCategory());
            assertTrue(admin.deadLetter("1-1").isEmpty());

            WorkflowAdmin.QueueStats stats = admin.stats();
            assertEquals(5, stats.deadLetters());
            assertEquals(0, stats.pending());
            assertEquals(0, stats.lag());
            assertEquals(0, stats.retryScheduled());
            assertEquals(1, stats.consumers().size());

            broken.set(false);
            String replayedEventId = shown.originalMessage().contains("charge-") ? eventIdOf(shown) : null;
            assertTrue(admin.replay(shown.id()).isPresent());
            Await.until(Duration.ofSeconds(15), () -> done.contains(replayedEventId), "the replayed event to complete");
            assertEquals(4, admin.deadLetterCount());
            assertEquals(4, admin.replayAll(1000));
            Await.until(Duration.ofSeconds(15), () -> done.size() == 5, "every replayed event to complete");
            assertEquals(0, admin.deadLetterCount());
            assertTrue(admin.replay(shown.id()).isEmpty(), "a dead letter is replayed once");

            broken.set(true);
            s.publisher().publish(WorkflowEvent.builder("CHARGE").eventId("charge-x").build());
            s.publisher().publish(WorkflowEvent.builder("CHARGE").eventId("charge-y").build());
            Await.until(Duration.ofSeconds(15), () -> admin.deadLetterCount() == 2, "two new dead letters");
            assertEquals(2, admin.purge());
            assertEquals(0, admin.deadLetterCount());
        }
    }

    @Test
    void deadLettersPageNewestFirstAndOldestPendingAgeComesFromTheSmallestPendingId(RedisServer redis) {
        RedisOptions options = redis.options().partitions(0).build();
        try (RedisClient c = redis.client();
             WorkflowAdmin admin = WorkflowAdmin.create(options)) {
            for (int i = 1; i <= 5; i++) {
                c.xadd(options.deadLetterStream(), new StreamEntryID(i, 0), Map.of("error_message", "e" + i));
            }
            List<RedisDeadLetters.Entry> first = admin.deadLettersNewestFirst(null, 2);
            assertEquals(List.of("5-0", "4-0"), first.stream().map(RedisDeadLetters.Entry::id).toList());
            List<RedisDeadLetters.Entry> next = admin.deadLettersNewestFirst("4-0", 10);
            assertEquals(List.of("3-0", "2-0", "1-0"), next.stream().map(RedisDeadLetters.Entry::id).toList());
            assertTrue(admin.deadLettersNewestFirst("1-0", 10).isEmpty());

            assertTrue(admin.oldestPendingAge().isEmpty(), "no stream yet");
            long addedMs = System.currentTimeMillis() - 60_000;
            c.xadd(options.stream(), new StreamEntryID(addedMs, 0), Map.of("event_id", "a"));
            c.xadd(options.stream(), new StreamEntryID(addedMs + 30_000, 0), Map.of("event_id", "b"));
            c.xgroupCreate(options.stream(), options.group(), new StreamEntryID(0, 0), false);
            assertTrue(admin.oldestPendingAge().isEmpty(), "nothing delivered yet");
            c.executeCommand(new CommandArguments(Protocol.Command.XREADGROUP).add("GROUP").add(options.group())
                    .add("c1").add("COUNT").add(2).add("STREAMS").key(options.stream()).add(">"));
            Duration age = admin.oldestPendingAge().orElseThrow();
            assertTrue(age.compareTo(Duration.ofSeconds(59)) >= 0 && age.compareTo(Duration.ofSeconds(90)) < 0,
                    age.toString());
        }
    }

    @Test
    void transportStatsReportLagPendingRetriesAndDeadLetters(RedisServer redis) throws Exception {
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(0).build())) {
            for (int i = 0; i < 3; i++) {
                t.publish(WorkflowEvent.builder("S").eventId("s-" + i).build());
            }
            assertEquals(new dev.workflowworker.api.StreamStats(3, 0, 0, 0), t.stats().orElseThrow());
            var consumer = t.openConsumer("stats-consumer");
            var got = consumer.read(2, Duration.ofMillis(500));
            assertEquals(2, got.size());
            assertEquals(new dev.workflowworker.api.StreamStats(1, 2, 0, 0), t.stats().orElseThrow());
            consumer.retryAt(got.get(0), java.time.Instant.now().plusSeconds(60), 2);
            consumer.deadLetter(got.get(1), new dev.workflowworker.api.DeadLetter(
                    dev.workflowworker.api.ErrorCategory.PERMANENT, "bad", "", 1, "w", java.time.Instant.now()));
            assertEquals(new dev.workflowworker.api.StreamStats(1, 0, 1, 1), t.stats().orElseThrow());
        }
    }

    @Test
    void openingAdminOnAStreamThatDoesNotExistWritesNothing(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set("unrelated", "1");
            c.scriptFlush();
            int keysBefore = c.keys("*").size();
            try (WorkflowAdmin admin = WorkflowAdmin.create(redis.options().partitions(0).stream("ordres").build())) {
                assertEquals(0, admin.deadLetterCount());
                assertTrue(admin.deadLetters(null, 10).isEmpty());
                assertTrue(admin.deadLetter("1-1").isEmpty());
                WorkflowAdmin.QueueStats stats = admin.stats();
                assertEquals(0, stats.length());
                assertEquals(-1, stats.lag());
                assertTrue(stats.consumers().isEmpty());
            }
            assertEquals(0, c.exists("ordres") ? 1 : 0, "the mistyped stream was created");
            assertEquals(keysBefore, c.keys("*").size(), () -> "keys now: " + c.keys("*"));
            assertEquals(List.of(0L), c.executeCommand(new CommandArguments(Protocol.Command.SCRIPT).add("EXISTS")
                    .add(LuaScript.load("reschedule").sha())), "scripts were loaded");
        }
    }

    @Test
    void adminReadsAStreamNoWorkerHasReadYetWithoutCreatingItsGroup(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.xadd("ordres", StreamEntryID.NEW_ENTRY, Map.of("event_type", "T"));
            try (WorkflowAdmin admin = WorkflowAdmin.create(redis.options().partitions(0).stream("ordres").build())) {
                WorkflowAdmin.QueueStats stats = admin.stats();
                assertEquals(1, stats.length());
                assertEquals(-1, stats.lag());
                assertTrue(stats.consumers().isEmpty());
            }
            assertTrue(c.xinfoGroups("ordres").isEmpty(), "the consumer group was created");
        }
    }

    private static String eventIdOf(RedisDeadLetters.Entry e) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(e.originalMessage()).get("event_id").asText();
    }
}
