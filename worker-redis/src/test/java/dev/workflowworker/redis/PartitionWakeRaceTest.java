package dev.workflowworker.redis;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.internal.partitioned.PartitionProbe;


import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A wake that reaches Redis after the reader last looked for wakes but before its XREAD BLOCK
 * did: CLIENT UNBLOCK then finds nothing to unblock, and unless it is sent again the reader
 * blocks for its whole wait while a delivery is ready here. The hand-back is made to land in
 * exactly that gap through {@link PartitionProbe#beforeBlockingRead}.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionWakeRaceTest {

    @Test
    void aWakeSentBeforeTheReadersXreadArrivesStillCutsItsBlockShort(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().stream("race:wake").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build();
        BlockingReadHook probe = new BlockingReadHook();
        try (RedisEventTransport t = RedisEventTransport.create(options, TimeSource.system(), probe);
             EventTransport.Consumer c = t.openConsumer("c1")) {
            t.publish(WorkflowEvent.builder("STEP").eventId("e1").executionId("exec-1")
                    .payload(Map.of("index", 0)).build());
            AtomicReference<List<Delivery>> read = new AtomicReference<>(List.of());
            Await.until(Duration.ofSeconds(10), () -> {
                try {
                    read.set(c.read(1, Duration.ofMillis(200)));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return !read.get().isEmpty();
            }, "the entry was not read");
            Delivery d = read.get().get(0);

            AtomicBoolean handedBack = new AtomicBoolean();
            probe.arm(() -> {
                // The hand-back wakes the reader, which has looked for wakes already and whose
                // XREAD is not in Redis yet: the first CLIENT UNBLOCK finds nothing blocked.
                Thread h = new Thread(() -> c.release(List.of(d)), "test-hands-back");
                h.start();
                try {
                    h.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                handedBack.set(!h.isAlive());
            });
            // The reader's XREAD blocks for up to the read's whole wait: 60 s.
            CompletableFuture<List<Delivery>> again = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.read(1, Duration.ofSeconds(60));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            List<Delivery> got = again.get(10, TimeUnit.SECONDS);
            assertTrue(handedBack.get(), "the hook did not run, or the hand-back did not finish");
            assertEquals(List.of(d.id()), got.stream().map(Delivery::id).toList());
        }
    }
}
