package dev.workflowworker.core;

import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkerState;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The handler thread that commits a lingering batch then reads and starts the keys' next events
 * (PollLoop.refill; docs/ARCHITECTURE.md, "The engine"). A drain must wait for such a read as for
 * the loop thread's: the thread's own slot was freed by the commit before it reads.
 */
class InlineRefillShutdownTest {

    @Test
    void theServiceDoesNotTerminateWhileAThreadOfAWorkerStillReadsFromItsTransport() throws Exception {
        InMemoryEventTransport memory = InMemoryEventTransport.create();
        AtomicBoolean transportClosed = new AtomicBoolean();
        List<String> callsAfterClose = new CopyOnWriteArrayList<>();
        CountDownLatch inRefill = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        CountDownLatch refillDone = new CountDownLatch(1);
        AtomicBoolean hooked = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger commits = new java.util.concurrent.atomic.AtomicInteger();
        List<String> heldOn = new CopyOnWriteArrayList<>();
        EventTransport transport = HookedTransport.lingering(memory, () -> transportClosed.set(true), (name, args) -> {
            if (transportClosed.get()) {
                callsAfterClose.add(name);
            }
        }, (name, out) -> {
            if (name.equals("complete")) {
                commits.incrementAndGet();
            }
            // The first read of the keys' next events once the JVM is warm (with the inline
            // refill the thread that committed makes it; without it, the loop): hold it here.
            if (name.equals("read") && commits.get() >= 10
                    && !((List<?>) out).isEmpty() && hooked.compareAndSet(false, true)) {
                heldOn.add(Thread.currentThread().getName());
                inRefill.countDown();
                // A real read with no wait does not end on an interrupt: neither does this one.
                boolean interrupted = false;
                while (true) {
                    try {
                        proceed.await(10, TimeUnit.SECONDS);
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                refillDone.countDown();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        WorkerService s = WorkerService.builder().transport(transport).workerCount(1).concurrencyLimit(16)
                .pollInterval(Duration.ofMillis(500)).shutdownTimeout(Duration.ofSeconds(5))
                .runtime(ctx -> { }).build();
        try {
            // Several keys and events: the first batch may be committed by the settler's thread while
            // the JVM is cold; a later one is committed, and its keys' next events read, by a handler.
            HookedTransport.keysTakingTurns("k", 4, 50).forEach(memory::publish);
            s.start();
            assertTrue(inRefill.await(10, TimeUnit.SECONDS), "no read after the tenth commit");
            s.shutdown();
            boolean terminated = s.awaitTermination(Duration.ofSeconds(2));
            boolean closedMeanwhile = transportClosed.get();
            proceed.countDown();
            assertTrue(refillDone.await(10, TimeUnit.SECONDS));
            assertTrue(s.awaitTermination(Duration.ofSeconds(10)));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (callsAfterClose.isEmpty() && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            assertFalse(terminated, "the service terminated while " + heldOn + " still held deliveries from a read;"
                    + " transport closed meanwhile: " + closedMeanwhile + "; consumer calls after its close: " + callsAfterClose
                    + "; pending " + memory.pendingCount() + ", ready " + memory.readyCount());
            assertFalse(closedMeanwhile, "the transport was closed while a handler thread still read from it");
            assertEquals(List.of(), callsAfterClose, "consumer calls made after the transport was closed");
        } finally {
            proceed.countDown();
            s.shutdownNow();
            memory.close();
        }
    }

    /**
     * What the dispatch of a refill throws (here the host's executor, refusing with something other
     * than a RejectedExecutionException) happens on a handler's thread, whose pool or host only logs
     * it: the worker then went on with the batch's deliveries neither started nor handed back, their
     * slots held. It must crash the worker, as the same throw does on the loop's thread, so that the
     * health monitor replaces it.
     */
    @Test
    void aThrowInARefillsDispatchCrashesTheWorkerAsOnTheLoopThread() throws Exception {
        InMemoryEventTransport memory = InMemoryEventTransport.create();
        java.util.concurrent.atomic.AtomicInteger commits = new java.util.concurrent.atomic.AtomicInteger();
        AtomicBoolean thrown = new AtomicBoolean();
        CountDownLatch threw = new CountDownLatch(1);
        CountDownLatch crashed = new CountDownLatch(1);
        List<WorkerState> states = new CopyOnWriteArrayList<>();
        EventTransport transport = HookedTransport.lingering(memory, () -> { }, (name, args) -> { }, (name, out) -> {
            if (name.equals("complete")) {
                commits.incrementAndGet();
            }
        });
        java.util.concurrent.ExecutorService host = java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "host-handler");
            t.setDaemon(true);
            return t;
        });
        java.util.concurrent.Executor executor = task -> {
            // Only a submit from a handler's own thread is a refill's; the loop's thread is the library's.
            if (Thread.currentThread().getName().equals("host-handler") && commits.get() >= 10
                    && thrown.compareAndSet(false, true)) {
                threw.countDown();
                throw new IllegalStateException("host executor broken");
            }
            host.execute(task);
        };
        WorkerService s = WorkerService.builder().transport(transport).workerCount(1).concurrencyLimit(16)
                .pollInterval(Duration.ofMillis(500)).shutdownTimeout(Duration.ofSeconds(2)).executor(executor)
                .listener(new WorkerListener() {
                    @Override
                    public void onWorkerState(String workerId, WorkerState state) {
                        states.add(state);
                        if (state == WorkerState.CRASHED) {
                            crashed.countDown();
                        }
                    }
                })
                .runtime(ctx -> { }).build();
        try {
            HookedTransport.keysTakingTurns("k", 4, 200).forEach(memory::publish);
            s.start();
            assertTrue(threw.await(10, TimeUnit.SECONDS), "no refill submitted handlers from a handler's thread after the tenth commit");
            assertTrue(crashed.await(5, TimeUnit.SECONDS), "the worker went on after its refill's dispatch threw: " + states);
        } finally {
            s.shutdownNow();
            host.shutdownNow();
            memory.close();
        }
    }
}
