package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The partitioned reader's buffer is bounded over every partition it reads, and each read takes
 * the same count from every partition with more in Redis. A partition whose keys take few (here a
 * key whose event stays out, so its later entries only queue) then fills the buffer to its limit,
 * and before this test's change a partition whose keys took everything was no longer read at all:
 * its keys waited for the other partition's queue to drain. With few keys the same pile-up cost a
 * third of every round's keys (docs/BENCHMARKS.md, "j16c: where a 16-keys round goes").
 */
@ExtendWith(RedisServerExtension.class)
class PartitionRunningDryTest {

    /** Above the reader's buffer limit (10,000 entries), so the stuck key alone can fill it. */
    private static final int STUCK = 10_300;
    private static final int FLOWING = 10_600;

    @Test
    void aPartitionWhoseKeysTookEverythingIsReadAgainWhileTheBufferIsFull(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().stream("dry:s").partitions(2)
                .partitionLeaseTtl(Duration.ofSeconds(30)).build();
        String stuck = PartitionedStreamTest.keyFor(0, 2);
        String flowing = PartitionedStreamTest.keyFor(1, 2);
        try (RedisEventTransport t = RedisEventTransport.create(options);
             EventTransport.Consumer c = t.openConsumer("c1")) {
            publish(t, stuck, 0, STUCK);
            publish(t, flowing, 0, FLOWING);
            Delivery held = null;
            List<Integer> flowed = new ArrayList<>(FLOWING);
            while (flowed.size() < FLOWING) {
                List<Delivery> got = c.read(1_000, Duration.ofSeconds(5));
                assertTrue(!got.isEmpty(), "the flowing key stopped after " + flowed.size() + " of " + FLOWING
                        + " events while the stuck key's entries filled the buffer");
                List<Delivery> done = new ArrayList<>(got.size());
                for (Delivery d : got) {
                    if (d.event().executionId().equals(stuck)) {
                        assertEquals(null, held, "a second event of the stuck key started while its first was out");
                        held = d;
                    } else {
                        flowed.add(index(d));
                        done.add(d);
                    }
                }
                c.complete(done);
            }
            for (int i = 0; i < FLOWING; i++) {
                assertEquals(i, flowed.get(i), "the flowing key's events in order, each once");
            }
            // The stuck key then resumes where it stood, in order.
            assertEquals(0, index(held));
            c.complete(List.of(held));
            int next = 1;
            while (next < STUCK) {
                List<Delivery> got = c.read(1_000, Duration.ofSeconds(5));
                assertTrue(!got.isEmpty(), "the stuck key stopped at " + next);
                for (Delivery d : got) {
                    assertEquals(next++, index(d));
                }
                c.complete(got);
            }
            assertEquals(List.of(), c.read(100, Duration.ofMillis(200)), "an event delivered twice");
        }
    }

    /** Publishes events {@code from} to {@code from + n - 1} of one key, ids {@code key-i}, in batches. */
    static void publish(RedisEventTransport t, String key, int from, int n) {
        List<WorkflowEvent> batch = new ArrayList<>(1_000);
        for (int i = from; i < from + n; i++) {
            batch.add(WorkflowEvent.builder("STEP").eventId(key + "-" + i).executionId(key)
                    .payload(Map.of("i", i)).build());
            if (batch.size() == 1_000 || i == from + n - 1) {
                t.publishAll(batch);
                batch.clear();
            }
        }
    }

    private static int index(Delivery d) {
        String id = d.event().eventId();
        return Integer.parseInt(id.substring(id.lastIndexOf('-') + 1));
    }
}
