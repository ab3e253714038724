package dev.workflowworker.redis;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(RedisServerExtension.class)
class RedisDeadLettersTest {

    private static List<Delivery> pollUntil(EventTransport.Consumer c, int expected) throws InterruptedException {
        List<Delivery> all = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (all.size() < expected && System.nanoTime() < deadline) {
            all.addAll(c.read(expected - all.size(), Duration.ofMillis(200)));
        }
        assertEquals(expected, all.size());
        return all;
    }

    private static void deadLetter(EventTransport.Consumer c, Delivery d, String reason) {
        c.deadLetter(d, new DeadLetter(ErrorCategory.PERMANENT, reason, "", d.attempt(), "w1", Instant.now()));
    }

    @Test
    void listsDeadLettersWithTheirReasons(RedisServer redis) throws Exception {
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(0).build())) {
            t.publish(WorkflowEvent.builder("T").eventId("d1").build());
            t.publish(WorkflowEvent.builder("T").eventId("d2").build());
            EventTransport.Consumer c = t.openConsumer("c1");
            List<Delivery> got = pollUntil(c, 2);
            deadLetter(c, got.get(0), "first reason");
            deadLetter(c, got.get(1), "second reason");

            RedisDeadLetters dlq = t.deadLetters();
            assertEquals(2, dlq.size());
            List<RedisDeadLetters.Entry> listed = dlq.list(10);
            assertEquals(List.of("first reason", "second reason"),
                    listed.stream().map(RedisDeadLetters.Entry::errorMessage).toList());
            assertEquals(got.get(0).id(), listed.get(0).originalId());
            assertEquals("permanent", listed.get(0).errorCategory());
            assertEquals(1, dlq.list(1).size());
        }
    }

    @Test
    void replaySendsADeadLetterBackAsAFreshEntry(RedisServer redis) throws Exception {
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(0).build())) {
            WorkflowEvent event = WorkflowEvent.builder("T").eventId("again").executionId("x1")
                    .payload(Map.of("k", "välue")).build();
            t.publish(event);
            EventTransport.Consumer c = t.openConsumer("c1");
            Delivery first = pollUntil(c, 1).get(0);
            c.retryAt(first, Instant.now(), 3);
            Delivery third = pollUntil(c, 1).get(0);
            assertEquals(3, third.attempt());
            deadLetter(c, third, "gave up");
            RedisDeadLetters dlq = t.deadLetters();
            String dlqId = dlq.list(1).get(0).id();

            Optional<String> newId = dlq.replay(dlqId);

            assertTrue(newId.isPresent());
            assertEquals(0, dlq.size());
            Delivery replayed = pollUntil(c, 1).get(0);
            assertEquals(newId.get(), replayed.id());
            assertEquals(event, replayed.event());
            assertEquals(1, replayed.attempt(), "a replay starts afresh");
            assertEquals(Optional.empty(), dlq.replay(dlqId), "a dead letter is replayed once");
        }
    }

    @Test
    void deleteRemovesADeadLetter(RedisServer redis) throws Exception {
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(0).build())) {
            t.publish(WorkflowEvent.builder("T").eventId("gone").build());
            EventTransport.Consumer c = t.openConsumer("c1");
            deadLetter(c, pollUntil(c, 1).get(0), "drop it");
            RedisDeadLetters dlq = t.deadLetters();
            String id = dlq.list(1).get(0).id();

            assertTrue(dlq.delete(id));
            assertFalse(dlq.delete(id));
            assertEquals(0, dlq.size());
        }
    }

    @Test
    void requireIdAcceptsTheIdsTheStreamListsAndSaysWhatIsWrongWithOthers(RedisServer redis) {
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(0).build())) {
            RedisDeadLetters shared = new RedisDeadLetters(t, StreamLayout.of(t, 0, true));
            RedisDeadLetters partitioned = new RedisDeadLetters(t, StreamLayout.of(t, 4, true));
            assertEquals("1764280000000-0", shared.requireId("1764280000000-0"));
            assertEquals("3/1764280000000-12", partitioned.requireId("3/1764280000000-12"));

            Map<String, String> sharedRefusals = Map.of(
                    "abc", "is not a dead letter id",
                    "3/1-0", "is not partitioned",
                    "1764280000000", "lacks the sequence number",
                    "18446744073709551616-0", "is not a dead letter id");
            sharedRefusals.forEach((id, why) -> assertRefused(shared, id, why));
            Map<String, String> partitionedRefusals = Map.of(
                    "abc", "partition/id",
                    "1-0", "partition/id",
                    "9/abc", "partitions 0 to 3",
                    "99/1-0", "partitions 0 to 3",
                    "3/abc", "is not a dead letter id",
                    "3/1", "lacks the sequence number");
            partitionedRefusals.forEach((id, why) -> assertRefused(partitioned, id, why));
            // What requireId refuses, replay refuses before it reaches Redis.
            assertThrows(IllegalArgumentException.class, () -> shared.replay("1764280000000"));
        }
    }

    private static void assertRefused(RedisDeadLetters dlq, String id, String why) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dlq.requireId(id), id);
        assertTrue(e.getMessage().contains(why), id + ": " + e.getMessage());
    }
}
