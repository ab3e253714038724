package dev.workflowworker.core.memory;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.internal.ComposedLocking;
import dev.workflowworker.core.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On the ordered in-memory transport a key's next event may be taken the moment its predecessor
 * is settled. Session 17 made the transport's own commit release the locks first; the engine's
 * other outcomes (here a dead letter) and the commit composed with a host's lock provider still
 * settled first, so the next event could meet the lock held and wait a contention delay (50 ms)
 * for nothing. Each case probes the lock on the settling thread at the moment the next event
 * becomes ready; on the code before, each saw it held.
 */
class OrderedReleaseBeforeReadyTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final InMemoryEventTransport transport = InMemoryEventTransport.builder().ordered(true).build();
    /** What the probe saw each time a delivery became ready. */
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private WorkerService service;

    @AfterEach
    void close() {
        if (service != null) {
            service.close();
        }
        transport.close();
    }

    /**
     * Probes the lock of key x each time a delivery becomes ready once {@code from} holds; the
     * sequencer also wakes readers when nothing new is ready for x, so earlier probes say nothing.
     */
    private void probe(LockProvider locks, BooleanSupplier from) {
        transport.sequencer.onReady(() -> {
            if (!from.getAsBoolean()) {
                return;
            }
            Optional<Lock> next = locks.tryAcquire("x", Duration.ofSeconds(1));
            seen.add(next.isPresent() ? "lock free" : "lock held");
            next.ifPresent(Lock::release);
        });
    }

    private static WorkflowEvent event(String type, String id) {
        return WorkflowEvent.builder(type).eventId(id).executionId("x").build();
    }

    @Test
    void aDeadLetteredEventsSuccessorIsReadyOnlyOnceItsLockIsReleased() throws Exception {
        transport.publish(event("FAIL", "e1"));
        transport.publish(event("OK", "e2"));
        List<String> succeeded = new CopyOnWriteArrayList<>();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch fail = new CountDownLatch(1);
        // From e1's dead letter on: it is recorded just before the sequencer makes e2 ready.
        probe(transport.lockProvider().orElseThrow(), () -> !transport.deadLetters().isEmpty());
        service = WorkerService.builder().transport(transport)
                .runtime(ActionRuntime.builder()
                        .on("FAIL", ctx -> {
                            running.countDown();
                            assertTrue(fail.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
                            throw new PermanentWorkflowException("poison");
                        })
                        .on("OK", ctx -> { })
                        .build())
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome o) {
                        if (o.kind() == EventOutcome.Kind.SUCCEEDED) {
                            succeeded.add(o.event().eventId());
                        }
                    }
                })
                .workerCount(1).pollInterval(Duration.ofMillis(50)).build();
        service.start();
        assertTrue(running.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "e1 did not start");
        // Paused, nothing takes e2 (and its lock) the moment it is ready: the probe alone asks for the lock.
        service.pause();
        fail.countDown();
        Await.until(WAIT, () -> !seen.isEmpty(), "e1 was not dead-lettered");
        assertEquals("lock free", seen.get(0), "when e2 became ready after e1's dead letter: " + seen);

        service.resume();
        Await.until(WAIT, () -> succeeded.contains("e2"), () -> "e2 did not succeed; probes " + seen);
    }

    @Test
    void theCommitComposedWithAHostsProviderMakesTheNextReadyOnlyOnceTheLockIsReleased() throws Exception {
        transport.publish(event("OK", "e1"));
        transport.publish(event("OK", "e2"));
        InMemoryLockProvider host = new InMemoryLockProvider();
        EventTransport.Consumer a = transport.openConsumer("a");
        // The engine's commit for a host's provider (BatchLocking's composed path).
        ComposedLocking composed = new ComposedLocking(a, host, lock -> true);
        Delivery d = a.read(2, Duration.ofMillis(5)).get(0);
        Lock lock = composed.acquire(List.of(d), Duration.ofSeconds(1)).get(0).lock().orElseThrow();
        probe(host, () -> true);

        assertEquals(List.of(), composed.completeAndRelease(List.of(d), List.of(lock)));

        assertEquals(List.of("lock free"), seen, "when e2 became ready, e1's lock");
        assertEquals(Set.of("e1"), a.completedAmong(List.of("e1")), "e1's marker");
        assertEquals("e2", a.read(2, Duration.ofMillis(5)).get(0).event().eventId());
    }
}
