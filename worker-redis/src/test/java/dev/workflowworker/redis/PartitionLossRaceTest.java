package dev.workflowworker.redis;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.internal.partitioned.PartitionProbe;

import dev.workflowworker.redis.internal.partitioned.Partitions;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A partition's lease lost while an out delivery goes back into the buffer (a retry's hold, a
 * hand-back): the loss drops the partition's buffer, and the delivery must not be put back after
 * that drop, where it would sit under a lease that is gone and shadow the next read of the same
 * entry. The loss is made to arrive exactly between the lease check and the re-offer through
 * {@link PartitionProbe#beforeRequeue}, so the interleaving is forced rather than hoped for.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionLossRaceTest {

    @Test
    void aLeaseLostWhileARetryIsHeldLeavesNothingOfItBuffered(RedisServer redis) throws Exception {
        raceLossAgainst(redis, "race:hold",
                (c, d) -> c.retryAt(d, Instant.now().plusSeconds(60), 2));
    }

    @Test
    void aLeaseLostWhileADeliveryIsHandedBackLeavesNothingOfItBuffered(RedisServer redis) throws Exception {
        raceLossAgainst(redis, "race:handback", (c, d) -> c.release(List.of(d)));
    }

    private void raceLossAgainst(RedisServer redis, String stream,
                                 BiConsumer<EventTransport.Consumer, Delivery> putBack) throws Exception {
        RedisOptions options = redis.options().stream(stream).partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build();
        AtomicReference<Runnable> armed = new AtomicReference<>();
        PartitionProbe probe = new PartitionProbe() {
            @Override
            public void beforeRequeue() {
                Runnable r = armed.getAndSet(null);
                if (r != null) {
                    r.run();
                }
            }
        };
        try (RedisEventTransport t = RedisEventTransport.create(options, TimeSource.system(), probe);
             EventTransport.Consumer c = t.openConsumer("c1")) {
            t.publish(WorkflowEvent.builder("STEP").eventId("e1").executionId("exec-1")
                    .payload(Map.of("index", 0)).build());
            Partitions p = TestInternals.partitions(t);
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
            Partitions.Lease lease = p.leaseOf(d);
            assertFalse(lease.lost, "read under a lease that is already lost");

            AtomicReference<Thread> loser = new AtomicReference<>();
            armed.set(() -> {
                Thread l = new Thread(() -> p.lost(lease, "lost in the test"), "test-loses-the-lease");
                loser.set(l);
                l.start();
                // Either the loss completes here (nothing keeps it out), or it waits for the
                // re-offer to finish, which is the point.
                Await.until(Duration.ofSeconds(5),
                        () -> l.getState() == Thread.State.BLOCKED || l.getState() == Thread.State.TERMINATED,
                        () -> "the losing thread is " + l.getState());
            });
            putBack.accept(c, d);
            assertNotNull(loser.get(), "the hook did not run: the lease was not checked as holding");
            loser.get().join(5_000);
            assertFalse(loser.get().isAlive(), "the loss did not complete");
            assertTrue(lease.lost);
            assertEquals(0, p.sequencer.size(),
                    "the delivery stayed buffered under the lost lease: " + p.sequencer.holds());
        }
    }
}
