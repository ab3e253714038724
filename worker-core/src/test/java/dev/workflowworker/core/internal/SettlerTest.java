package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettlerTest {

    @Test
    void aSuccessArrivingAfterTheSettlerStoppedIsStillCommittedAndItsLockReleased() throws Exception {
        try (InMemoryEventTransport transport = InMemoryEventTransport.create()) {
            EventTransport.Consumer consumer = transport.openConsumer("c1");
            LockProvider locks = transport.lockProvider().orElseThrow();
            BatchLocking locking = BatchLocking.of(consumer, locks, Optional.empty());
            WorkerStats stats = new WorkerStats(null);
            Slots slots = new Slots(1, stats, TimeSource.system());
            Settlement settlement = new Settlement("w1", consumer, locking, stats, new Listeners(List.of()),
                    TimeSource.system(), Duration.ofMillis(10));
            Settler settler = new Settler(locking, settlement, slots, new Threads(null, "test"), "settle",
                    t -> { throw new AssertionError(t); });
            FakeClock clock = new FakeClock();
            LockWatchdog watchdog = new LockWatchdog(clock, Duration.ofSeconds(30), clock, () -> { });
            settler.start();
            // The worker closed while a handler that ignores interrupts was still running.
            settler.stop(1000);

            transport.publish(WorkflowEvent.builder("T").eventId("late-1").executionId("x1").build());
            Delivery d = consumer.read(1, Duration.ofSeconds(1)).get(0);
            Lock lock = locks.tryAcquire("x1", Duration.ofSeconds(30)).orElseThrow();
            assertTrue(slots.tryAcquire());
            InFlight f = new InFlight(d, lock, clock.wallMillis());
            slots.track(f);
            f.context = new DefaultEventContext(d.event(), 1, lock.fencingToken(), "w1", clock, Instant.MAX, () -> false);
            f.watch = watchdog.watch(lock, f.context, clock.wallMillis());
            f.attempt = 1;

            settler.add(f);

            assertEquals(java.util.Set.of("late-1"), consumer.completedAmong(List.of("late-1")),
                    "the late success wrote its marker, so a redelivery is a duplicate");
            assertTrue(locks.tryAcquire("x1", Duration.ofSeconds(1)).isPresent(), "its lock was released");
            assertEquals(1, slots.available(), "its slot was given back");
            assertEquals(1, stats.succeededCount());
        }
    }
}
