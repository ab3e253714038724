package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.SetParams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The void settlements of a partitioned consumer ({@code complete(List)}, {@code acknowledge}):
 * refused because the partition's lease went to another owner, they said nothing, so their
 * caller (the engine counts an acknowledged duplicate) took them as done while the entries stayed
 * pending and ran again. Now they fail as {@code completeAndRelease} answers the same deliveries.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionedVoidSettleTest {

    @Test
    void aVoidSettlementRefusedForALostLeaseSaysSoAndTheEntriesStayPending(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().stream("void-settle").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(30)).build();
        try (RedisEventTransport t = RedisEventTransport.create(options);
             RedisClient client = redis.client()) {
            EventTransport.Consumer consumer = t.openConsumer("c");
            Await.until(Duration.ofSeconds(10), () -> t.ownedPartitions().contains(0), "partition 0 owned");
            t.publishAll(List.of(
                    WorkflowEvent.builder("STEP").eventId("v-1").executionId("x1").build(),
                    WorkflowEvent.builder("STEP").eventId("v-2").executionId("x2").build()));
            List<Delivery> read = new ArrayList<>();
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (read.size() < 2 && System.nanoTime() < until) {
                read.addAll(consumer.read(2, Duration.ofMillis(200)));
            }
            assertEquals(2, read.size(), "deliveries read");
            // Another owner took the partition (as after a pause longer than the lease).
            client.set(options.partitionFence(0), "1000");
            client.set(options.partitionLease(0), "thief|1000", SetParams.setParams().px(30_000));

            IllegalStateException completing = assertThrows(IllegalStateException.class,
                    () -> consumer.complete(List.of(read.get(0))));
            IllegalStateException acknowledging = assertThrows(IllegalStateException.class,
                    () -> consumer.acknowledge(read.get(1)));

            assertTrue(completing.getMessage().contains(read.get(0).id()), completing.getMessage());
            assertTrue(acknowledging.getMessage().contains(read.get(1).id()), acknowledging.getMessage());
            // Judged from Redis's own record, not from the transport's.
            assertEquals(2, PartitionKeys.unsettled(client, TestInternals.keys(options), 1)[0],
                    "both entries still pending for the partition's next owner");
            consumer.close();
        }
    }
}
