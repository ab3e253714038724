package dev.workflowworker.redis;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 20 (J, LOW): a dead letter refused because the partition was opened again since its
 * event was read (a failover that dropped the open, another owner's open) writes nothing, and the
 * event runs again from the reopened partition. The engine reported it to the host as
 * {@code DEAD_LETTERED} all the same: an outcome that never happened, followed by the event's real
 * one. It is now reported as what it became, a lost lease, as a refused success is.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionDeadLetterRefusalTest {

    @Test
    void aRefusedDeadLetterIsReportedAsALostLeaseAndTheEventRunsAgain(RedisServer redis) {
        RedisOptions options = redis.options().stream("dl-refused").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(20)).build();
        List<EventOutcome.Kind> reported = new CopyOnWriteArrayList<>();
        AtomicInteger runs = new AtomicInteger();
        ActionRuntime runtime = ActionRuntime.builder().on("STEP", ctx -> {
            if (runs.incrementAndGet() == 1) {
                // Another open of the partition while the first run fails: its dead letter is stale.
                try (RedisClient c = redis.client()) {
                    c.hincrBy(PartitionKeys.log(TestInternals.keys(options), 0), "e", 1);
                }
                throw new PermanentWorkflowException("fails for good");
            }
        }).build();
        try (WorkerService service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(runtime)
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome o) {
                        reported.add(o.kind());
                    }
                })
                .workerCount(1).concurrencyLimit(4).pollInterval(Duration.ofMillis(100))
                .build()) {
            service.start();
            service.publisher().publish(WorkflowEvent.builder("STEP").eventId("ev-1").executionId("exec-1")
                    .payload(Map.of("n", 1)).build());
            Await.until(Duration.ofSeconds(20), () -> reported.contains(EventOutcome.Kind.SUCCEEDED),
                    () -> "the event's second run did not succeed; reported " + reported);
            assertEquals(List.of(EventOutcome.Kind.LEASE_LOST, EventOutcome.Kind.SUCCEEDED), reported,
                    "the refused dead letter and the run that followed");
            assertEquals(2, runs.get());
            try (RedisClient c = redis.client()) {
                assertEquals(0, c.xlen(options.partitionDeadLetters(0)), "nothing dead-lettered");
            }
        }
    }
}
