package dev.workflowworker.core;

import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkerState;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.api.spi.SettlementRefusedException;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.core.testing.FakeClock;
import dev.workflowworker.core.testing.FlakyTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.MDC;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerServiceTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private final List<WorkerService> services = new CopyOnWriteArrayList<>();
    private final List<EventOutcome> outcomes = new CopyOnWriteArrayList<>();
    private final List<WorkerState> workerStates = new CopyOnWriteArrayList<>();

    private final WorkerListener recorder = new WorkerListener() {
        @Override
        public void onOutcome(EventOutcome outcome) {
            outcomes.add(outcome);
        }

        @Override
        public void onWorkerState(String workerId, WorkerState state) {
            workerStates.add(state);
        }
    };

    @AfterEach
    void closeAll() {
        services.forEach(WorkerService::shutdownNow);
    }

    private WorkerService.Builder builder(WorkflowRuntime runtime) {
        return WorkerService.builder().runtime(runtime).workerCount(2).concurrencyLimit(2)
                .pollInterval(Duration.ofMillis(20)).lockContentionDelay(Duration.ofMillis(1))
                .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(2))
                .transientBackoff(Duration.ofMillis(1)).listener(recorder);
    }

    private WorkerService started(WorkerService.Builder b) {
        WorkerService s = b.build();
        services.add(s);
        return s.start();
    }

    private long count(EventOutcome.Kind kind) {
        return outcomes.stream().filter(o -> o.kind() == kind).count();
    }

    @Test
    void startTwiceFailsAndCloseIsIdempotent() {
        WorkerService s = started(builder(ctx -> { }));
        assertThrows(IllegalStateException.class, s::start);
        s.close();
        s.close();
        s.shutdown();
        s.shutdownNow();
        assertEquals(WorkerService.State.TERMINATED, s.state());
        assertThrows(IllegalStateException.class, s::start);
    }

    @Test
    void buildWithoutRuntimeFailsClearly() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> WorkerService.builder().build());
        assertTrue(e.getMessage().contains("runtime"));
    }

    @Test
    void shutdownOfNeverStartedServiceTerminates() throws Exception {
        WorkerService s = builder(ctx -> { }).build();
        s.shutdown();
        assertTrue(s.awaitTermination(Duration.ofSeconds(1)));
        assertEquals(HealthStatus.UNHEALTHY, s.health().status());
    }

    @Test
    void shutdownLetsInFlightEventsFinish() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean sawCancelled = new AtomicBoolean();
        WorkerService s = started(builder(ctx -> {
            started.countDown();
            assertTrue(release.await(10, TimeUnit.SECONDS));
            sawCancelled.set(ctx.isCancelled());
        }).shutdownTimeout(Duration.ofSeconds(10)));
        s.publisher().publish(WorkflowEvent.builder("T").build());
        assertTrue(started.await(10, TimeUnit.SECONDS));
        s.shutdown();
        assertEquals(WorkerService.State.STOPPING, s.state());
        assertFalse(s.awaitTermination(Duration.ofMillis(50)), "must wait for the in-flight event");
        release.countDown();
        assertTrue(s.awaitTermination(WAIT));
        assertEquals(1, count(EventOutcome.Kind.SUCCEEDED));
        assertTrue(sawCancelled.get(), "handlers see cancellation once shutdown begins");
    }

    @Test
    void shutdownDeadlineHandsUnfinishedEventsBack() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        InMemoryEventTransport transport = InMemoryEventTransport.create();
        WorkerService s = started(builder(ctx -> {
            started.countDown();
            new CountDownLatch(1).await(); // blocks until interrupted
        }).transport(transport).shutdownTimeout(Duration.ofMillis(100)));
        s.publisher().publish(WorkflowEvent.builder("T").eventId("slow").build());
        assertTrue(started.await(10, TimeUnit.SECONDS));
        s.shutdown();
        assertTrue(s.awaitTermination(WAIT));
        assertEquals(0, transport.pendingCount());
        assertEquals(1, transport.readyCount(), "the unfinished event is handed back for immediate redelivery");
        assertEquals(0, s.health().eventsFailed(), "an interrupted handler is not a failure");
    }

    @Test
    void shutdownNowCutsAWaitingShutdownShort() throws Exception {
        FakeClock clock = new FakeClock();
        InMemoryEventTransport transport = InMemoryEventTransport.builder().timeSource(clock).build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        WorkerService s = started(builder(ctx -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
            }
        }).transport(transport).timeSource(clock).scheduler(clock).shutdownTimeout(Duration.ofHours(1)));
        s.publisher().publish(WorkflowEvent.builder("T").eventId("slow").build());
        assertTrue(started.await(10, TimeUnit.SECONDS));

        Thread graceful = new Thread(s::shutdown);
        graceful.start();
        graceful.join(TimeUnit.SECONDS.toMillis(10));
        assertEquals(WorkerService.State.STOPPING, s.state(), "the drain waits for the blocked handler");
        assertEquals(1, interrupted.getCount(), "a graceful shutdown does not interrupt before its deadline");

        CountDownLatch returned = new CountDownLatch(1);
        new Thread(() -> {
            s.shutdownNow();
            returned.countDown();
        }).start();
        assertTrue(returned.await(5, TimeUnit.SECONDS), "shutdownNow returns at once");
        // Far inside the hour the first shutdown would wait for (the fake clock never gets there).
        assertTrue(interrupted.await(5, TimeUnit.SECONDS), "the in-flight handler is interrupted");
        assertTrue(s.awaitTermination(Duration.ofSeconds(5)), "the drain ends without waiting out its deadline");
        assertEquals(WorkerService.State.TERMINATED, s.state());
        assertEquals(0, transport.pendingCount());
        assertEquals(1, transport.readyCount(), "the interrupted event is handed back for immediate redelivery");
        assertEquals(1, count(EventOutcome.Kind.RELEASED), () -> outcomes.toString());
    }

    @Test
    void aTransportWhoseCloseThrowsLeavesTheServiceCrashed() throws Exception {
        FlakyTransport transport = new FlakyTransport(InMemoryEventTransport.create());
        transport.closeFault = new IllegalStateException("connection reset while closing");
        WorkerService s = started(builder(ctx -> { }).transport(transport));
        s.close();
        assertTrue(s.awaitTermination(Duration.ZERO), "a crashed service has terminated all the same");
        assertEquals(WorkerService.State.CRASHED, s.state());
        assertFalse(workerStates.contains(WorkerState.CRASHED), "the workers closed cleanly: " + workerStates);

        WorkerService neverStarted = builder(ctx -> { }).transport(transport).build();
        neverStarted.shutdown();
        assertEquals(WorkerService.State.CRASHED, neverStarted.state());
    }

    @Test
    void aConsumerWhoseCloseThrowsLeavesItsWorkerCrashedNotStopped() throws Exception {
        FlakyTransport transport = new FlakyTransport(InMemoryEventTransport.create());
        transport.consumerCloseFault = new IllegalStateException("connection reset while closing");
        WorkerService s = started(builder(ctx -> { }).transport(transport).workerCount(1));
        s.close();
        assertEquals(List.of(WorkerState.RUNNING, WorkerState.STOPPING, WorkerState.CRASHED), workerStates);
        assertEquals(WorkerService.State.CRASHED, s.state());
    }

    @Test
    void closeFromAnInterruptedThreadRestoresTheFlag() {
        WorkerService s = started(builder(ctx -> { }));
        Thread.currentThread().interrupt();
        try {
            s.close();
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }

    /**
     * A transport that refuses a duplicate's acknowledge because the lease it was read under passed
     * on (a rebalance of a partitioned stream) reports an ordinary event, not a transport failure:
     * health stays HEALTHY, where any other failure of the acknowledge degrades it.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aDuplicateRefusedForALostLeaseIsNotATransportFailure(boolean refusedForTheLease) throws Exception {
        FlakyTransport transport = new FlakyTransport(InMemoryEventTransport.create());
        CountDownLatch acknowledged = new CountDownLatch(1);
        WorkerService s = started(builder(ctx -> { }).transport(transport).workerCount(1));
        WorkflowEvent e = WorkflowEvent.builder("T").eventId("same").build();
        s.publisher().publish(e);
        Await.until(WAIT, () -> count(EventOutcome.Kind.SUCCEEDED) == 1, "first completion");
        transport.acknowledgeFault = () -> {
            transport.acknowledgeFault = () -> null;
            acknowledged.countDown();
            return refusedForTheLease
                    ? new SettlementRefusedException("acknowledging 1 of 1 entries was refused", List.of())
                    : new IllegalStateException("connection reset");
        };
        s.publisher().publish(e);
        assertTrue(acknowledged.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the duplicate was acknowledged");
        // One worker settles in order: once a later event succeeded, the refused acknowledge was handled.
        s.publisher().publish(WorkflowEvent.builder("T").eventId("after").build());
        Await.until(WAIT, () -> count(EventOutcome.Kind.SUCCEEDED) == 2, "the next event's completion");
        assertEquals(0, s.health().duplicates());
        if (refusedForTheLease) {
            assertEquals(HealthStatus.HEALTHY, s.health().status(), () -> s.health().toJson());
        } else {
            assertEquals(HealthStatus.DEGRADED, s.health().status(), () -> s.health().toJson());
        }
    }

    @Test
    void redeliveryOfACompletedEventIsAcknowledgedAsDuplicate() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        WorkerService s = started(builder(ctx -> runs.incrementAndGet()));
        WorkflowEvent e = WorkflowEvent.builder("T").eventId("same").build();
        s.publisher().publish(e);
        Await.until(WAIT, () -> count(EventOutcome.Kind.SUCCEEDED) == 1, "first completion");
        s.publisher().publish(e);
        Await.until(WAIT, () -> count(EventOutcome.Kind.DUPLICATE) == 1, "duplicate acknowledged");
        assertEquals(1, runs.get());
        assertEquals(1, s.health().duplicates());
        assertEquals(1, s.health().eventsProcessed());
    }

    @Test
    void leaseLossCancelsTheHandlerAndRefusesItsSuccess() throws Exception {
        FakeClock clock = new FakeClock();
        InMemoryEventTransport transport = InMemoryEventTransport.builder().timeSource(clock).build();
        CountDownLatch firstStarted = new CountDownLatch(1);
        AtomicBoolean firstSawCancel = new AtomicBoolean();
        List<Long> tokens = new CopyOnWriteArrayList<>();
        AtomicInteger runs = new AtomicInteger();
        WorkerService s = started(builder(ctx -> {
            tokens.add(ctx.fencingToken());
            if (runs.incrementAndGet() == 1) {
                firstStarted.countDown();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!ctx.isCancelled() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                firstSawCancel.set(ctx.isCancelled());
            }
        }).transport(transport).timeSource(clock).lockTtl(Duration.ofMillis(90)).eventTimeout(Duration.ofHours(1)));
        s.publisher().publish(WorkflowEvent.builder("T").eventId("e1").executionId("x1").build());
        assertTrue(firstStarted.await(10, TimeUnit.SECONDS));

        // The lease expires (the store's clock moves past the TTL) and another holder takes the key.
        clock.advance(Duration.ofSeconds(1));
        Lock intruder = transport.lockProvider().orElseThrow().tryAcquire("x1", Duration.ofMillis(90)).orElseThrow();
        assertTrue(intruder.fencingToken() > tokens.get(0));
        intruder.release();

        Await.until(WAIT, () -> count(EventOutcome.Kind.LEASE_LOST) == 1, "lease loss detected");
        assertTrue(firstSawCancel.get(), "the handler's context turns cancelled when the lease is lost");
        assertEquals(0, count(EventOutcome.Kind.SUCCEEDED), "a handler that lost its lease does not succeed");
        clock.advance(Duration.ofSeconds(1)); // the redelivery's due time
        Await.until(WAIT, () -> count(EventOutcome.Kind.SUCCEEDED) == 1, "redelivery completes");
        assertEquals(2, tokens.size());
        assertTrue(tokens.get(1) > intruder.fencingToken(), "fencing tokens increase per key: " + tokens);
        assertEquals(1, s.health().eventsSucceeded());
    }

    @Test
    void crashedWorkerIsReplacedByTheHealthMonitor() throws Exception {
        FakeClock clock = new FakeClock();
        FlakyTransport transport = new FlakyTransport(InMemoryEventTransport.builder().timeSource(clock).build());
        AtomicBoolean crashOnce = new AtomicBoolean(true);
        transport.pollFault = () -> crashOnce.getAndSet(false) ? new AssertionError("bug in poll") : null;
        AtomicInteger runs = new AtomicInteger();
        WorkerService s = started(builder(ctx -> runs.incrementAndGet()).transport(transport)
                .timeSource(clock).scheduler(clock).healthCheckInterval(Duration.ofSeconds(30)));
        Await.until(WAIT, () -> workerStates.contains(WorkerState.CRASHED), "a worker crashed");
        assertEquals(HealthStatus.UNHEALTHY, s.health().status(), s.health().toJson());
        assertFalse(workerStates.contains(WorkerState.REPLACED), "nothing is replaced before a health check");
        clock.advance(Duration.ofSeconds(30));
        assertTrue(workerStates.contains(WorkerState.REPLACED), "the health check replaced the crashed worker");
        Await.until(WAIT, () -> s.health().status() == HealthStatus.HEALTHY && s.health().workerCount() == 2,
                () -> s.health().toJson());
        for (int i = 0; i < 20; i++) {
            s.publisher().publish(WorkflowEvent.builder("T").build());
        }
        Await.until(WAIT, () -> runs.get() == 20, "events processed after healing");
    }

    @Test
    void shutdownBegunWhileAWorkerIsReplacedStopsEveryWorker() throws Exception {
        FakeClock clock = new FakeClock();
        FlakyTransport transport = new FlakyTransport(InMemoryEventTransport.builder().timeSource(clock).build());
        AtomicBoolean crashOnce = new AtomicBoolean(true);
        transport.pollFault = () -> crashOnce.getAndSet(false) ? new AssertionError("bug in poll") : null;
        AtomicReference<WorkerService> service = new AtomicReference<>();
        // The host reacts to a replacement by shutting the service down, on the health check's own
        // thread: the narrowest interleaving of the two, made deterministic.
        WorkerListener shutdownOnReplace = new WorkerListener() {
            @Override
            public void onWorkerState(String workerId, WorkerState state) {
                if (state == WorkerState.REPLACED) {
                    service.get().shutdown();
                }
            }
        };
        WorkerService s = started(builder(ctx -> { }).transport(transport).workerCount(2)
                .timeSource(clock).scheduler(clock).healthCheckInterval(Duration.ofSeconds(30))
                .shutdownTimeout(Duration.ofSeconds(30)).listener(shutdownOnReplace));
        service.set(s);
        Await.until(WAIT, () -> workerStates.contains(WorkerState.CRASHED), "a worker crashed");
        clock.advance(Duration.ofSeconds(30));
        assertTrue(s.awaitTermination(Duration.ofSeconds(5)),
                "every worker was told to stop, so shutdown does not wait out its 30 s timeout");
        String prefix = "workflow-worker-" + s.instanceId() + "-";
        Await.until(WAIT, () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith(prefix) && t.isAlive() && !t.getName().endsWith("shutdown")),
                "no worker thread outlives the service");
    }

    @Test
    void transportFailureDegradesThenRecovers() {
        FakeClock clock = new FakeClock();
        FlakyTransport transport = new FlakyTransport(InMemoryEventTransport.builder().timeSource(clock).build());
        AtomicBoolean down = new AtomicBoolean(true);
        transport.pollFault = () -> down.get() ? new IllegalStateException("connection refused") : null;
        WorkerService s = started(builder(ctx -> { }).transport(transport).timeSource(clock)
                .healthCheckInterval(Duration.ofSeconds(30)));
        Await.until(WAIT, () -> s.health().status() == HealthStatus.DEGRADED, () -> s.health().toJson());
        assertTrue(s.health().workers().stream()
                .anyMatch(w -> w.reason() != null && w.reason().contains("connection refused")), s.health().toJson());
        down.set(false);
        clock.advance(Duration.ofSeconds(31));
        Await.until(WAIT, () -> s.health().status() == HealthStatus.HEALTHY, () -> s.health().toJson());
    }

    @Test
    void mdcCarriesEventKeysDuringTheHandlerOnly() throws Exception {
        Map<String, String> seen = new ConcurrentHashMap<>();
        AtomicLong cleared = new AtomicLong(-1);
        WorkerService s = started(builder(ctx -> seen.putAll(MDC.getCopyOfContextMap()))
                .workerCount(1).concurrencyLimit(1)
                .executor(r -> new Thread(() -> {
                    r.run();
                    cleared.set(MDC.getCopyOfContextMap() == null ? 0 : MDC.getCopyOfContextMap().size());
                }).start()));
        s.publisher().publish(WorkflowEvent.builder("TICKET").eventId("e7").executionId("x7").build());
        Await.until(WAIT, () -> cleared.get() >= 0, "handler finished");
        assertEquals("e7", seen.get("eventId"));
        assertEquals("x7", seen.get("executionId"));
        assertEquals("TICKET", seen.get("eventType"));
        assertEquals("1", seen.get("attempt"));
        assertTrue(seen.get("workerId").contains("-worker1-"));
        assertEquals(0, cleared.get(), "MDC keys are removed after the event");
    }

    @Test
    void malformedEntryIsDeadLetteredAndTheWorkerCarriesOn() {
        InMemoryEventTransport transport = InMemoryEventTransport.create();
        AtomicInteger runs = new AtomicInteger();
        WorkerService s = started(builder(ctx -> runs.incrementAndGet()).transport(transport));
        transport.publishRaw(Map.of("event_id", "bad-1", "event_type", "T", "payload_json", "{oops"));
        s.publisher().publish(WorkflowEvent.builder("T").build());
        Await.until(WAIT, () -> runs.get() == 1 && s.health().eventsDeadLettered() == 1, "bad dead-lettered, good run");
        assertEquals(1, transport.deadLetters().size());
        assertTrue(transport.deadLetters().get(0).letter().errorMessage().startsWith("invalid field 'payload_json'"));
    }

    @Test
    void scalingUpAndDownLosesNoEvents() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch gate = new CountDownLatch(1);
        WorkerService s = started(builder(ctx -> {
            gate.await(10, TimeUnit.SECONDS);
            runs.incrementAndGet();
        }).workerCount(3).shutdownTimeout(Duration.ofSeconds(10)));
        for (int i = 0; i < 100; i++) {
            s.publisher().publish(WorkflowEvent.builder("T").eventId("s" + i).build());
        }
        Await.until(WAIT, () -> s.health().activeEvents() == 6, () -> s.health().toJson());
        s.scale(1); // two workers retire while their handlers are blocked
        assertEquals(1, s.health().workerCount());
        assertEquals(HealthStatus.HEALTHY, s.health().status(), s.health().toJson());
        gate.countDown();
        Await.until(WAIT, () -> runs.get() == 100, () -> "ran " + runs.get());
        s.scale(4);
        assertEquals(4, s.health().workerCount());
        for (int i = 100; i < 200; i++) {
            s.publisher().publish(WorkflowEvent.builder("T").eventId("s" + i).build());
        }
        Await.until(WAIT, () -> runs.get() == 200, () -> "ran " + runs.get());
        // Successes are counted when their batch is acknowledged, just after the handler returns.
        Await.until(WAIT, () -> s.health().eventsSucceeded() == 200, () -> s.health().toJson());
        assertEquals(0, s.health().duplicates());
        assertThrows(IllegalArgumentException.class, () -> s.scale(0));
    }

    @Test
    void pauseStopsReadingAndShowsInHealthUntilResume() {
        AtomicInteger runs = new AtomicInteger();
        InMemoryEventTransport transport = InMemoryEventTransport.create();
        WorkerService s = started(builder(ctx -> runs.incrementAndGet()).transport(transport));
        s.pause();
        assertTrue(s.isPaused());
        Await.until(WAIT, () -> s.health().workers().stream().allMatch(w -> w.state() == WorkerState.PAUSED),
                () -> s.health().toJson());
        assertEquals(HealthStatus.DEGRADED, s.health().status());
        for (int i = 0; i < 10; i++) {
            s.publisher().publish(WorkflowEvent.builder("T").build());
        }
        // A poll that was already blocked may pick events up, but must hand them back unprocessed.
        Await.until(WAIT, () -> transport.readyCount() == 10, () -> "ready " + transport.readyCount()
                + " pending " + transport.pendingCount());
        assertEquals(0, runs.get());
        s.scale(3);
        assertTrue(s.health().workers().stream().allMatch(w -> w.state() == WorkerState.PAUSED),
                () -> "a worker started while paused starts paused: " + s.health().toJson());
        s.resume();
        assertFalse(s.isPaused());
        Await.until(WAIT, () -> runs.get() == 10, () -> "ran " + runs.get());
        assertTrue(s.health().workers().stream().allMatch(w -> w.state() == WorkerState.RUNNING),
                () -> s.health().toJson());
        assertEquals(HealthStatus.HEALTHY, s.health().status(), s.health().toJson());
    }

    @Test
    void listenersCanBeAddedAndRemovedAtRuntime() {
        WorkerService s = started(builder(ctx -> { }));
        AtomicInteger seen = new AtomicInteger();
        WorkerListener l = new WorkerListener() {
            @Override
            public void onOutcome(EventOutcome outcome) {
                seen.incrementAndGet();
            }
        };
        s.addListener(l);
        s.publisher().publish(WorkflowEvent.builder("T").build());
        Await.until(WAIT, () -> seen.get() == 1, "listener added at runtime sees the outcome");
        assertTrue(s.removeListener(l));
        assertFalse(s.removeListener(l));
    }

    @Test
    void streamIsWhatTheTransportReads() {
        assertEquals(InMemoryEventTransport.DEFAULT_STREAM, builder(ctx -> { }).build().stream());
        WorkerService s = builder(ctx -> { })
                .transport(InMemoryEventTransport.builder().stream("orders").build()).build();
        services.add(s);
        assertEquals("orders", s.stream());
    }

    @Test
    void transportClassifiersComeAfterTheHostsAndBeforeTheDefaults() {
        class StoreDown extends RuntimeException {
            StoreDown(String m) {
                super(m);
            }
        }
        FlakyTransport transport = new FlakyTransport(InMemoryEventTransport.create());
        transport.errorClassifiers = List.of(ErrorClassifier.of(StoreDown.class, ErrorCategory.PERMANENT));
        WorkerService s = started(builder(ctx -> {
            throw new StoreDown(ctx.event().eventType());
        }).transport(transport).maxRetries(0)
                .errorClassifier(e -> "HOST".equals(e.getMessage()) ? Optional.of(ErrorCategory.TRANSIENT)
                        : Optional.empty()));
        s.publisher().publish(WorkflowEvent.builder("HOST").build());
        s.publisher().publish(WorkflowEvent.builder("STORE").build());
        Await.until(WAIT, () -> count(EventOutcome.Kind.DEAD_LETTERED) == 2, () -> outcomes.toString());
        // Without the transport's classifier the defaults would call StoreDown recoverable.
        for (EventOutcome o : outcomes) {
            assertEquals(o.event().eventType().equals("HOST") ? ErrorCategory.TRANSIENT : ErrorCategory.PERMANENT,
                    o.category(), o.toString());
        }
    }
}
