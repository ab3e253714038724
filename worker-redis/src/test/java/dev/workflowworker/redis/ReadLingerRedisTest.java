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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The partitioned reader's linger against a real server: a flow read in small rounds (which
 * lingers) still delivers every event once, and an event published after the linger is armed is
 * read within its bound, not after the read's whole wait. See docs/ARCHITECTURE.md, "The read linger".
 */
@ExtendWith(RedisServerExtension.class)
class ReadLingerRedisTest {

    @Test
    void smallRoundsInAFlowDeliverEveryEventOnceAndALoneEventIsNotHeldForTheReadsWait(RedisServer redis)
            throws Exception {
        RedisOptions options = redis.options().stream("linger:s").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(5)).build();
        Set<String> seen = new HashSet<>();
        try (RedisEventTransport t = RedisEventTransport.create(options);
             EventTransport.Consumer c = t.openConsumer("c1")) {
            int next = 0;
            // Two rounds of 10 each, the second right after the first: the second arms the linger.
            for (int round = 0; round < 2; round++) {
                List<String> published = new ArrayList<>();
                for (int i = 0; i < 10; i++, next++) {
                    published.add(publish(t, next));
                }
                assertEquals(Set.copyOf(published), readAll(c, 10, seen));
            }
            String lone = publish(t, next);
            long t0 = System.nanoTime();
            List<Delivery> got = c.read(100, Duration.ofSeconds(30));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(List.of(lone), got.stream().map(d -> d.event().eventId()).toList());
            assertTrue(seen.add(lone));
            c.complete(got);
            // The linger is 0.5 ms at most; a second leaves room for a loaded machine, the read's own wait is 30 s.
            assertTrue(tookMillis < 1_000, "the lone event waited " + tookMillis + " ms");
            assertEquals(List.of(), c.read(100, Duration.ofMillis(200)), "an event delivered twice");
        }
    }

    private static String publish(RedisEventTransport t, int i) {
        String id = "e" + i;
        t.publish(WorkflowEvent.builder("STEP").eventId(id).executionId("exec-" + i).payload(Map.of("i", i)).build());
        return id;
    }

    /** Reads until {@code n} deliveries came (bounded), completes them, and returns their event ids. */
    private static Set<String> readAll(EventTransport.Consumer c, int n, Set<String> seen) throws Exception {
        Set<String> ids = new HashSet<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ids.size() < n && System.nanoTime() < deadline) {
            List<Delivery> got = c.read(100, Duration.ofMillis(500));
            for (Delivery d : got) {
                assertTrue(seen.add(d.event().eventId()), "delivered twice: " + d.event().eventId());
                ids.add(d.event().eventId());
            }
            c.complete(got);
        }
        return ids;
    }
}
