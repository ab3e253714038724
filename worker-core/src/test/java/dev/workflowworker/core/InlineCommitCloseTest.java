package dev.workflowworker.core;

import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A commit of successes still on the wire when a worker closes: the close must wait for it (as it
 * waits for the settler's thread) before the consumer and the transport are closed, or events that
 * ran stay uncommitted and run again on the next owner. With a commit linger the commit may be
 * made on a handler's thread (Settler.handlerDone), which the close does not wait for.
 */
class InlineCommitCloseTest {

    @Test
    void aWorkerDoesNotCloseItsConsumerWhileACommitOfItsSuccessesIsOnTheWire() throws Exception {
        InMemoryEventTransport memory = InMemoryEventTransport.create();
        AtomicInteger commits = new AtomicInteger();
        AtomicBoolean hooked = new AtomicBoolean();
        CountDownLatch inCommit = new CountDownLatch(1);
        CountDownLatch consumerClosed = new CountDownLatch(1);
        AtomicBoolean commitHeld = new AtomicBoolean();
        List<String> closedDuringCommit = new CopyOnWriteArrayList<>();
        List<String> heldOn = new CopyOnWriteArrayList<>();
        EventTransport transport = HookedTransport.lingering(memory, (name, args) -> {
            if (name.equals("close") && commitHeld.get()) {
                closedDuringCommit.add("consumer close on " + Thread.currentThread().getName());
            }
            if (name.equals("close")) {
                consumerClosed.countDown();
            }
            if (!name.equals("complete")) {
                return;
            }
            int n = commits.incrementAndGet();
            String thread = Thread.currentThread().getName();
            // A handler's thread's commit once warm; where there is none (no inline commit), the settler's.
            boolean pick = n >= 10 && (thread.contains("-exec") || n >= 40);
            if (pick && hooked.compareAndSet(false, true)) {
                heldOn.add(thread);
                commitHeld.set(true);
                inCommit.countDown();
                // A slow store (a hung cluster node): the reply comes after the drain's deadline and
                // its unwind, well before a close's wait for the settler (10 s). An interrupt does not end it.
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
                boolean interrupted = false;
                while (System.nanoTime() < until && consumerClosed.getCount() > 0) {
                    try {
                        consumerClosed.await(until - System.nanoTime(), TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                commitHeld.set(false);
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        WorkerService s = WorkerService.builder().transport(transport).workerCount(1).concurrencyLimit(16)
                .pollInterval(Duration.ofMillis(500)).shutdownTimeout(Duration.ofSeconds(1))
                .runtime(ctx -> { }).build();
        try {
            HookedTransport.keysTakingTurns("k", 4, 200).forEach(memory::publish);
            s.start();
            assertTrue(inCommit.await(10, TimeUnit.SECONDS), "no commit after the tenth");
            s.shutdown();
            assertTrue(s.awaitTermination(Duration.ofSeconds(20)));
            assertEquals(List.of(), closedDuringCommit, "the worker closed its consumer while a commit made on "
                    + heldOn + " was still on the wire");
        } finally {
            s.shutdownNow();
            memory.close();
        }
    }
}
