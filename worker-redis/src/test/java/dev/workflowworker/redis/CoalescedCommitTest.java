package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One commit call carrying several partitions' successes (what the commit linger gathers with
 * few keys) is one script per partition, sent together: each is fenced by its own partition's
 * lease, so a partition whose lease moved to another owner is refused alone, and the others
 * commit. Judged from what Redis holds, not from the transport's bookkeeping.
 */
@ExtendWith(RedisServerExtension.class)
class CoalescedCommitTest {

    /** A lock key that routes to partition {@code p} of {@code n}. */
    private static String keyIn(int p, int n) {
        for (int i = 0; ; i++) {
            if (PartitionRouting.partitionOf("exec-" + i, n) == p) {
                return "exec-" + i;
            }
        }
    }

    @Test
    void aCommitOfSeveralPartitionsRefusesOnlyThoseWhoseLeaseMoved(RedisServer redis) throws Exception {
        int n = 3;
        RedisOptions options = redis.options().stream("coalesced").partitions(n)
                .partitionLeaseTtl(Duration.ofSeconds(30)).build();
        try (RedisEventTransport t = RedisEventTransport.create(options);
             EventTransport.Consumer c = t.openConsumer("c1");
             RedisClient client = redis.client()) {
            for (int p = 0; p < n; p++) {
                t.publish(WorkflowEvent.builder("STEP").eventId("e" + p).executionId(keyIn(p, n)).build());
            }
            List<Delivery> read = new ArrayList<>();
            Await.until(Duration.ofSeconds(10), () -> {
                try {
                    read.addAll(c.read(10, Duration.ofMillis(200)));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return read.size() == n;
            }, () -> "read " + read.size() + " of " + n);
            EventTransport.LockingConsumer lc = (EventTransport.LockingConsumer) c;
            List<Lock> locks = new ArrayList<>();
            for (EventTransport.Acquisition a : lc.acquire(read, Duration.ofSeconds(30))) {
                locks.add(a.lock().orElseThrow());
            }
            // Partition 1 moved to another owner (as after this process paused past its lease), which
            // opened it: until that open, this owner's commit would still land and the open read it
            // (docs/ARCHITECTURE.md, "Why a stale reader cannot lose, duplicate or reorder", point 1).
            client.set(options.partitionLease(1), "another-owner|99");
            String one = options.partitionStream(1);
            assertTrue(client.eval(TimeScriptsTest.script("partition_open.lua"),
                    List.of(options.partitionLease(1), one + ":log", one + ":settled", one + ":held",
                            one + ":recent", options.partitionDeadLetters(1), one, options.partitionCompleted(1)),
                    List.of("another-owner|99", options.group(), "100")) instanceof List<?>, "the other owner's open");
            Delivery ofOne = read.stream().filter(d -> d.eventId().equals("e1")).findFirst().orElseThrow();

            List<Delivery> refused = lc.completeAndRelease(read, locks);

            assertEquals(List.of(ofOne), refused, "only the moved partition's success is refused");
            assertArrayEquals(new long[] {0, 1, 0}, PartitionKeys.unsettled(client, TestInternals.keys(options), n),
                    "partitions 0 and 2 settled their entry, partition 1 left it to its owner");
            for (int p = 0; p < n; p++) {
                String recent = options.partitionStream(p) + ":recent";
                assertEquals(p == 1 ? List.of() : List.of("1|2:e" + p), TestInternals.recentCompletions(client.lrange(recent, 0, -1)),
                        "partition " + p + "'s recent completions");
            }
            assertTrue(TestInternals.partitions(t).owned().containsAll(List.of(0, 2)));
        }
    }
}
