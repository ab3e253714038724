package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A consumer group (shared stream) or a partition's committed position (partitioned) lost while
 * its stream lives on (Redis restarted from a stale snapshot, or an operator deleted it) is
 * re-created from the start of the stream, whatever start id was configured for the first
 * creation: entries written meanwhile were never delivered, and a position re-created at '$' would
 * skip them for good. Entries that completed before are recognised and not run again.
 */
@ExtendWith(RedisServerExtension.class)
class GroupRecreationTest {

    private final List<WorkerService> services = new ArrayList<>();
    private final Set<String> completed = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> runs = new ConcurrentHashMap<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    private WorkerService start(RedisOptions options) {
        WorkerService s = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    runs.merge(ctx.event().eventId(), 1, Integer::sum);
                    completed.add(ctx.event().eventId());
                }).build())
                .workerCount(1)
                .pollInterval(Duration.ofMillis(100))
                .build();
        services.add(s);
        s.start();
        return s;
    }

    private static WorkflowEvent event(String id) {
        return WorkflowEvent.builder("STEP").eventId(id).executionId("exec-1").payload(Map.of()).build();
    }

    /** Deletes the group and appends an entry in one transaction, so no read can re-create the group in between. */
    private static void loseGroupAndAppend(RedisServer redis, String stream, String group, WorkflowEvent e) {
        try (RedisClient c = redis.client(); AbstractTransaction tx = c.multi()) {
            tx.xgroupDestroy(stream, group);
            tx.xadd(stream, StreamEntryID.NEW_ENTRY, WireFormat.defaults().encode(e, 1));
            tx.exec();
        }
    }

    @Test
    void aPartitionsLostPositionIsReadFromTheStartSoNothingWrittenMeanwhileIsSkipped(RedisServer redis)
            throws Exception {
        RedisOptions options = redis.options().stream("recreate:partitioned").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(2)).groupStartId("$").build();
        WorkerService first = start(options);
        first.publisher().publish(event("first"));
        Await.until(Duration.ofSeconds(10), () -> completed.contains("first"), () -> "first not completed");
        first.close();
        // Redis came back from an older snapshot: the partition's position is gone, its stream is not.
        try (RedisClient c = redis.client(); AbstractTransaction tx = c.multi()) {
            tx.del(PartitionKeys.log(TestInternals.keys(options), 0));
            tx.xadd(options.partitionStream(0), StreamEntryID.NEW_ENTRY, WireFormat.defaults().encode(event("meanwhile"), 1));
            tx.exec();
        }
        start(options);
        Await.until(Duration.ofSeconds(10), () -> completed.contains("meanwhile"),
                () -> "the entry written while the position was gone was never run");
        org.junit.jupiter.api.Assertions.assertEquals(1, runs.get("first"), "first ran again: " + runs);
    }

    @Test
    void theSharedStreamsLostGroupIsRecreatedFromTheStartSoNothingWrittenMeanwhileIsSkipped(RedisServer redis)
            throws Exception {
        RedisOptions options = redis.options().partitions(0).stream("recreate:shared").groupStartId("$").build();
        WorkerService s = start(options);
        s.publisher().publish(event("first"));
        Await.until(Duration.ofSeconds(10), () -> completed.contains("first"), () -> "first not completed");
        loseGroupAndAppend(redis, options.stream(), options.group(), event("meanwhile"));
        Await.until(Duration.ofSeconds(10), () -> completed.contains("meanwhile"),
                () -> "the entry written while the group was gone was never run");
        org.junit.jupiter.api.Assertions.assertEquals(1, runs.get("first"), "first ran again: " + runs);
    }
}
