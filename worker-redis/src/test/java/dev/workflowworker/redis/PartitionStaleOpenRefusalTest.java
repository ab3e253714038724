package dev.workflowworker.redis;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.SettlementRefusedException;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;
import dev.workflowworker.redis.internal.partitioned.PartitionProbe;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * An outcome refused because the partition was opened again since its delivery was read (a
 * failover that dropped the open, say): the partition reopens from Redis and reads the entry again
 * under the same delivery id. That copy is a new delivery of the key's event; the refused one must
 * be forgotten exactly once, or forgetting it a second time after the re-read settles the copy in
 * the key's order and hands out the key's next event while the copy still runs. The re-read is
 * made to happen exactly between the refusal and the caller's end through
 * {@link PartitionProbe#afterStaleOpen}.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionStaleOpenRefusalTest {

    @Test
    void aDeadLetterRefusedForAStaleOpenDoesNotLetTheKeysNextEventPassItsRereadCopy(RedisServer redis)
            throws Exception {
        refuseForAStaleOpen(redis, "stale-open:dead-letter", (c, d) -> assertThrows(SettlementRefusedException.class,
                () -> c.deadLetter(d, new DeadLetter(ErrorCategory.PERMANENT, "fails for good", null, 1, "w1",
                        Instant.now())), "a refused dead letter says so: the event runs again"));
    }

    @Test
    void aCommitRefusedForAStaleOpenDoesNotLetTheKeysNextEventPassItsRereadCopy(RedisServer redis)
            throws Exception {
        refuseForAStaleOpen(redis, "stale-open:commit", (c, d) -> {
            try {
                c.complete(List.of(d));
            } catch (IllegalStateException refused) {
                // SettlementRefusedException: the refusal is what the test makes happen
            }
        });
    }

    @Test
    void anAcknowledgementRefusedForAStaleOpenDoesNotLetTheKeysNextEventPassItsRereadCopy(RedisServer redis)
            throws Exception {
        refuseForAStaleOpen(redis, "stale-open:acknowledge", (c, d) -> {
            try {
                c.acknowledge(d);
            } catch (SettlementRefusedException refused) {
                // the refusal is what the test makes happen
            }
        });
    }

    /**
     * The engine follows a refused success with a retry's hold of that delivery. By then the
     * partition may have opened again and handed the entry out anew under the same id: the hold
     * must leave that copy alone (held, it would run a second time beside itself).
     */
    @Test
    void aRetryOfACommitRefusedForAStaleOpenLeavesTheRereadCopyAlone(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().stream("stale-open:retry").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(30)).build();
        List<String> handedOut = new CopyOnWriteArrayList<>();
        try (RedisEventTransport t = RedisEventTransport.create(options);
             EventTransport.Consumer c = t.openConsumer("c1");
             RedisClient redisClient = redis.client()) {
            Delivery original = publishTwoOfOneKeyAndReadTheFirst(t, c);

            redisClient.hincrBy(PartitionKeys.log(TestInternals.keys(options), 0), "e", 1);
            assertThrows(SettlementRefusedException.class, () -> c.complete(List.of(original)));
            Await.until(Duration.ofSeconds(10), () -> {
                readInto(c, handedOut, Duration.ofMillis(200));
                return !handedOut.isEmpty();
            }, "e1 was not read again after the reopen");

            c.retryAt(original, Instant.now(), 2);
            readInto(c, handedOut, Duration.ofMillis(500));
            assertEquals(List.of("e1"), handedOut,
                    "after the refused commit's retry the key's events were handed out in this order, none settled");
        }
    }

    private void refuseForAStaleOpen(RedisServer redis, String stream,
                                     BiConsumer<EventTransport.Consumer, Delivery> settle) throws Exception {
        RedisOptions options = redis.options().stream(stream).partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(30)).build();
        List<String> handedOut = new CopyOnWriteArrayList<>();
        AtomicReference<EventTransport.Consumer> consumer = new AtomicReference<>();
        AtomicReference<Boolean> armed = new AtomicReference<>(false);
        PartitionProbe probe = new PartitionProbe() {
            @Override
            public void afterStaleOpen() {
                if (armed.getAndSet(false)) {
                    // What another worker of the process would do at this moment: read.
                    readInto(consumer.get(), handedOut, Duration.ofMillis(500));
                }
            }
        };
        try (RedisEventTransport t = RedisEventTransport.create(options, TimeSource.system(), probe);
             EventTransport.Consumer c = t.openConsumer("c1");
             RedisClient redisClient = redis.client()) {
            consumer.set(c);
            Delivery original = publishTwoOfOneKeyAndReadTheFirst(t, c);

            // Another open since this one: every outcome stamped with it is refused as stale.
            redisClient.hincrBy(PartitionKeys.log(TestInternals.keys(options), 0), "e", 1);
            armed.set(true);
            settle.accept(c, original);
            assertFalse(armed.get(), "the outcome was not refused as stale (the probe did not run)");

            // The partition reopens and hands e1 out again; e2 must wait for that copy's outcome.
            Await.until(Duration.ofSeconds(10), () -> {
                readInto(c, handedOut, Duration.ofMillis(200));
                return !handedOut.isEmpty();
            }, "e1 was not read again after the reopen");
            readInto(c, handedOut, Duration.ofMillis(500));
            assertEquals(List.of("e1"), handedOut,
                    "after the refusal the key's events were handed out in this order, none settled");
        }
    }

    /** Publishes e1 and e2 of one execution and reads until e1, alone, is handed out. */
    private static Delivery publishTwoOfOneKeyAndReadTheFirst(RedisEventTransport t, EventTransport.Consumer c) {
        for (String id : List.of("e1", "e2")) {
            t.publish(WorkflowEvent.builder("STEP").eventId(id).executionId("exec-1")
                    .payload(Map.of("id", id)).build());
        }
        AtomicReference<List<Delivery>> first = new AtomicReference<>(List.of());
        Await.until(Duration.ofSeconds(10), () -> {
            first.set(readInto(c, null, Duration.ofMillis(200)));
            return !first.get().isEmpty();
        }, "e1 was not read");
        assertEquals(List.of("e1"), first.get().stream().map(Delivery::eventId).toList(),
                "one key: only its first event is handed out");
        return first.get().get(0);
    }

    private static List<Delivery> readInto(EventTransport.Consumer c, List<String> ids, Duration wait) {
        try {
            List<Delivery> ds = c.read(10, wait);
            if (ids != null) {
                ds.forEach(d -> ids.add(d.eventId()));
            }
            return ds;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
