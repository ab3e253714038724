package dev.workflowworker.redis;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * At the reader's buffer limit (10,000 entries), filled by one key whose event stays out (a long
 * retry) with thousands of entries behind it, a partition with few entries waiting here is still
 * read, opened and waited on: its new event runs at once rather than after the stuck key's pile-up
 * drains. Before this test's change only partitions running dry (more in Redis at their last read)
 * were: a partition read to its end, or one just taken, was neither read nor waited on
 * (docs/ARCHITECTURE.md, "Ordered processing"; docs/BENCHMARKS.md, "j17read").
 */
@ExtendWith(RedisServerExtension.class)
class PartitionBufferLimitTest {

    /** Above the buffer limit, so the stuck key alone fills it. */
    private static final int STUCK = 10_300;
    /** What one read must return in: the stuck key's retry would hold it far longer. */
    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    @Test
    void aQuietPartitionsNewEventRunsWhileAStuckKeyFillsTheBuffer(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().stream("limit:quiet").partitions(2)
                .partitionLeaseTtl(Duration.ofSeconds(30)).build();
        String stuck = PartitionedStreamTest.keyFor(0, 2);
        String quiet = PartitionedStreamTest.keyFor(1, 2);
        try (RedisEventTransport t = RedisEventTransport.create(options);
             EventTransport.Consumer c = t.openConsumer("c1")) {
            publish(t, stuck, 0, STUCK);
            publish(t, quiet, 0, 1);
            // The quiet key's first event runs and commits: its partition is read to its end.
            List<Delivery> first = new ArrayList<>();
            while (first.size() < 2) {
                List<Delivery> got = c.read(100, Duration.ofSeconds(5));
                assertTrue(!got.isEmpty(), "only " + first + " came");
                first.addAll(got);
            }
            Delivery held = first.stream().filter(d -> d.event().executionId().equals(stuck)).findFirst().orElseThrow();
            c.complete(first.stream().filter(d -> d != held).toList());
            fillBuffer(t, c);

            publish(t, quiet, 1, 1);
            List<Delivery> got = c.read(100, PROMPTLY);
            assertEquals(List.of(quiet + "-1"), got.stream().map(d -> d.event().eventId()).toList(),
                    "the quiet partition's new event waited for the stuck key's pile-up");
            c.complete(got);
            assertBounded(t);
            // The stuck key resumes where it stood.
            c.complete(List.of(held));
            assertEquals(stuck + "-1", c.read(1, PROMPTLY).get(0).event().eventId());
        }
    }

    @Test
    void aPartitionTakenWhileAStuckKeyFillsTheBufferIsOpenedAndRead(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().stream("limit:taken").partitions(2)
                .partitionLeaseTtl(Duration.ofSeconds(3)).build();
        try (RedisEventTransport t1 = RedisEventTransport.create(options);
             EventTransport.Consumer c1 = t1.openConsumer("c1")) {
            Await.until(Duration.ofSeconds(10), () -> TestInternals.partitions(t1).owned().size() == 2,
                    () -> "t1 owns " + TestInternals.partitions(t1).owned());
            String other;
            String stuck;
            try (RedisEventTransport t2 = RedisEventTransport.create(options);
                 EventTransport.Consumer c2 = t2.openConsumer("c2")) {
                // Each takes its share: one partition each.
                Await.until(Duration.ofSeconds(20), () -> TestInternals.partitions(t1).owned().size() == 1
                                && TestInternals.partitions(t2).owned().size() == 1,
                        () -> "t1 owns " + TestInternals.partitions(t1).owned() + ", t2 "
                                + TestInternals.partitions(t2).owned());
                int mine = TestInternals.partitions(t1).owned().get(0);
                stuck = PartitionedStreamTest.keyFor(mine, 2);
                other = PartitionedStreamTest.keyFor(1 - mine, 2);
                publish(t1, stuck, 0, STUCK);
                Delivery held = c1.read(1, Duration.ofSeconds(5)).get(0);
                assertEquals(stuck + "-0", held.event().eventId());
                fillBuffer(t1, c1);
            }
            // t2 handed its partition over on close: t1 takes it with the buffer at its limit.
            Await.until(Duration.ofSeconds(20), () -> TestInternals.partitions(t1).owned().size() == 2,
                    () -> "t1 owns " + TestInternals.partitions(t1).owned());
            publish(t1, other, 0, 1);
            List<Delivery> got = c1.read(100, PROMPTLY);
            assertEquals(List.of(other + "-0"), got.stream().map(d -> d.event().eventId()).toList(),
                    "the partition taken at the buffer limit was not read");
            c1.complete(got);
            assertBounded(t1);
        }
    }

    /** Reads until the stuck key's entries fill the buffer; nothing else may start meanwhile. */
    private static void fillBuffer(RedisEventTransport t, EventTransport.Consumer c) throws Exception {
        KeySequencer sequencer = TestInternals.partitions(t).sequencer;
        while (sequencer.size() < 10_000) {
            assertEquals(List.of(), c.read(100, Duration.ofMillis(50)), "a second event of the stuck key started");
        }
    }

    private static void assertBounded(RedisEventTransport t) {
        int size = TestInternals.partitions(t).sequencer.size();
        assertTrue(size <= 20_000, "buffered " + size + ", above twice the limit");
    }

    private static void publish(RedisEventTransport t, String key, int from, int n) {
        PartitionRunningDryTest.publish(t, key, from, n);
    }
}
