package dev.workflowworker.redis;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.Router;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backlog of seed-format entries several router batches long (docs/ARCHITECTURE.md, "The
 * single stream"): each routed once and handled in its key's order, by the handlers' own ledger.
 */
@ExtendWith(RedisServerExtension.class)
class RouterBatchTest {

    @Test
    void aBacklogOfSeveralBatchesIsRoutedOnceEachInEachKeysOrder(RedisServer redis) throws Exception {
        int partitions = 16;
        int n = 2 * Router.batchFor(partitions) + 100;
        int keys = 40;
        RedisOptions options = redis.options().stream("router-batch").partitions(partitions)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build();
        Map<String, List<Integer>> ledger = new ConcurrentHashMap<>();
        AtomicInteger handled = new AtomicInteger();
        try (RedisClient client = redis.client()) {
            try (AbstractTransaction tx = client.multi()) {
                for (int i = 0; i < n; i++) {
                    tx.xadd(options.stream(), StreamEntryID.NEW_ENTRY, Map.of("event_id", "e" + i,
                            "execution_id", "x" + (i % keys), "event_type", "STEP", "payload_json", "{}"));
                }
                tx.exec();
            }
            WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                    .runtime(ctx -> {
                        // One handler at a time per key (per-key order), so the key's list is not shared.
                        ledger.computeIfAbsent(ctx.event().executionId(), k -> new ArrayList<>())
                                .add(Integer.parseInt(ctx.event().eventId().substring(1)));
                        handled.incrementAndGet();
                    }).pollInterval(Duration.ofMillis(100)).build();
            s.start();
            try {
                Await.until(Duration.ofSeconds(60), () -> handled.get() >= n, () -> "handled " + handled.get() + " of " + n);
            } finally {
                s.close();
            }
            assertEquals(n, handled.get(), "handled once each");
            long routed = 0;
            for (int p = 0; p < partitions; p++) {
                routed += client.xlen(options.partitionStream(p));
            }
            assertEquals(n, routed, "routed once each");
        }
        assertEquals(keys, ledger.size());
        for (Map.Entry<String, List<Integer>> e : ledger.entrySet()) {
            List<Integer> seen = e.getValue();
            assertEquals(n / keys + (Integer.parseInt(e.getKey().substring(1)) < n % keys ? 1 : 0), seen.size(),
                    "events of " + e.getKey());
            for (int i = 1; i < seen.size(); i++) {
                assertTrue(seen.get(i - 1) < seen.get(i), e.getKey() + " out of order: " + seen);
            }
        }
    }
}
