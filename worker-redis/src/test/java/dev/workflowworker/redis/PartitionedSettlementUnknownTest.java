package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.SettlementUnknownException;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A host's {@code complete(List)} over several partitions whose commit fails in one partition
 * only, on a real Redis: the others' commits stand, and the failure says which stood, which were
 * refused and which are unknown. It used to throw the one partition's script error alone, after
 * the others had committed, so the caller could not tell that any of them had (and the engine
 * counted them all as failed).
 */
@ExtendWith(RedisServerExtension.class)
class PartitionedSettlementUnknownTest {

    @Test
    void aCommitFailingInOnePartitionNamesTheSettledTheRefusedAndTheUnknown(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().partitions(2).stream("unknown-settle")
                .partitionLeaseTtl(Duration.ofSeconds(30)).build();
        try (RedisEventTransport t = RedisEventTransport.create(options);
             RedisClient client = redis.client();
             EventTransport.Consumer consumer = t.openConsumer("c")) {
            Await.until(Duration.ofSeconds(10), () -> t.ownedPartitions().containsAll(List.of(0, 1)),
                    "both partitions owned");
            List<WorkflowEvent> events = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                events.add(WorkflowEvent.builder("STEP").eventId("u-" + i).executionId("x" + i).build());
            }
            t.publishAll(events);
            List<Delivery> read = new ArrayList<>();
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (read.size() < events.size() && System.nanoTime() < until) {
                read.addAll(consumer.read(events.size(), Duration.ofMillis(200)));
            }
            assertEquals(events.size(), read.size(), "deliveries read");
            List<Delivery> zero = new ArrayList<>();
            List<Delivery> one = new ArrayList<>();
            for (Delivery d : read) {
                (d.id().startsWith("0/") ? zero : one).add(d);
            }
            assertTrue(!zero.isEmpty() && !one.isEmpty(), "deliveries of both partitions: " + read);
            // Partition 1's state is not what its commit script expects: the script fails in it
            // alone, after partition 0's commit in the same pipeline ran.
            String recentOfOne = options.partitionStream(1) + ":recent";
            client.del(recentOfOne);
            client.set(recentOfOne, "not a list");

            SettlementUnknownException e = assertThrows(SettlementUnknownException.class,
                    () -> consumer.complete(read));

            assertEquals(Set.copyOf(zero), Set.copyOf(e.settled()), "settled: " + e.getMessage());
            assertEquals(List.of(), e.refused(), "refused: " + e.getMessage());
            assertEquals(Set.copyOf(one), Set.copyOf(e.unknown()), "unknown: " + e.getMessage());
            assertTrue(String.valueOf(e.getCause()).contains("WRONGTYPE"), String.valueOf(e.getCause()));
            // Judged from Redis's own record: partition 0's commit stood, partition 1's did not land.
            assertArrayEquals(new long[] {0, one.size()},
                    PartitionKeys.unsettled(client, TestInternals.keys(options), 2), "unsettled per partition");

            // Once the state is repaired the partition reopens from Redis and runs again exactly
            // what its commit did not settle; partition 0's settled entries never come back.
            client.del(recentOfOne);
            Set<String> again = new HashSet<>();
            Set<String> expected = new HashSet<>();
            one.forEach(d -> expected.add(d.id()));
            until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (again.size() < expected.size() && System.nanoTime() < until) {
                for (Delivery d : consumer.read(events.size(), Duration.ofMillis(200))) {
                    again.add(d.id());
                }
            }
            assertEquals(expected, again, "delivered again after the reopen");
        }
    }
}
