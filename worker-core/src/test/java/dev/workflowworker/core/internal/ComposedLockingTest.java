package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.spi.SettlementRefusedException;
import dev.workflowworker.api.spi.SettlementUnknownException;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ComposedLockingTest {

    /**
     * A host lock provider over a transport that refuses part of a completion (a partitioned
     * stream whose lease passed on): the refused deliveries come back as refused, as a lost lock's
     * do, so the engine reports them as lost leases and the others as succeeded, and every lock is
     * released. Before, the exception failed the whole settlement and no success was reported.
     */
    @Test
    void deliveriesTheTransportRefusesComeBackAsRefusedAndTheOthersStandCompleted() throws Exception {
        try (InMemoryEventTransport transport = InMemoryEventTransport.create()) {
            EventTransport.Consumer real = transport.openConsumer("c1");
            List<Delivery> ds = twoRead(transport, real);
            List<Delivery> completed = new ArrayList<>();
            EventTransport.Consumer consumer = completingWith(real, batch -> {
                completed.add(batch.get(0));
                real.complete(List.of(batch.get(0)));
                throw new SettlementRefusedException("refused", List.of(batch.get(1)));
            });
            LockProvider locks = transport.lockProvider().orElseThrow();
            Lock l1 = locks.tryAcquire("x1", Duration.ofSeconds(30)).orElseThrow();
            Lock l2 = locks.tryAcquire("x2", Duration.ofSeconds(30)).orElseThrow();
            ComposedLocking locking = new ComposedLocking(consumer, locks, l -> true);

            List<Delivery> refused = locking.completeAndRelease(ds, List.of(l1, l2));

            assertEquals(1, refused.size());
            assertSame(ds.get(1), refused.get(0));
            assertEquals(List.of(ds.get(0)), completed);
            assertTrue(locks.tryAcquire("x1", Duration.ofSeconds(30)).isPresent(), "x1's lock released");
            assertTrue(locks.tryAcquire("x2", Duration.ofSeconds(30)).isPresent(), "x2's lock released");
        }
    }

    /**
     * A completion that fails after its own lock check refused one delivery (the in-memory ordered
     * consumer's lock lost) says which were refused and which are unknown, so the engine reports
     * the refused one as a lost lease: the transport's failure used to hide it.
     */
    @Test
    void aFailedCompletionStillNamesTheDeliveriesItsLockCheckRefused() throws Exception {
        try (InMemoryEventTransport transport = InMemoryEventTransport.create()) {
            EventTransport.Consumer real = transport.openConsumer("c1");
            List<Delivery> ds = twoRead(transport, real);
            IllegalStateException down = new IllegalStateException("connection reset");
            EventTransport.Consumer consumer = completingWith(real, batch -> {
                throw down;
            });
            LockProvider locks = transport.lockProvider().orElseThrow();
            Lock l1 = locks.tryAcquire("x1", Duration.ofSeconds(30)).orElseThrow();
            Lock l2 = locks.tryAcquire("x2", Duration.ofSeconds(30)).orElseThrow();
            ComposedLocking locking = new ComposedLocking(consumer, locks, l -> l != l2);

            SettlementUnknownException e = assertThrows(SettlementUnknownException.class,
                    () -> locking.completeAndRelease(ds, List.of(l1, l2)));

            assertEquals(List.of(), e.settled());
            assertEquals(List.of(ds.get(1)), e.refused());
            assertEquals(List.of(ds.get(0)), e.unknown());
            assertSame(down, e.getCause());
            assertTrue(locks.tryAcquire("x1", Duration.ofSeconds(30)).isPresent(), "x1's lock released");
            assertTrue(locks.tryAcquire("x2", Duration.ofSeconds(30)).isPresent(), "x2's lock released");
        }
    }

    /** {@return {@code real}, except that its {@code complete} runs {@code complete} instead} */
    private static EventTransport.Consumer completingWith(EventTransport.Consumer real,
                                                          java.util.function.Consumer<List<Delivery>> complete) {
        return (EventTransport.Consumer) Proxy.newProxyInstance(ComposedLockingTest.class.getClassLoader(),
                new Class<?>[]{EventTransport.Consumer.class}, (p, m, args) -> {
                    if (m.getName().equals("complete")) {
                        @SuppressWarnings("unchecked")
                        List<Delivery> batch = (List<Delivery>) args[0];
                        complete.accept(batch);
                        return null;
                    }
                    try {
                        return m.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** {@return two deliveries of two keys (x1, x2), read by {@code real}} */
    private static List<Delivery> twoRead(InMemoryEventTransport transport, EventTransport.Consumer real)
            throws InterruptedException {
        transport.publish(WorkflowEvent.builder("T").eventId("a").executionId("x1").build());
        transport.publish(WorkflowEvent.builder("T").eventId("b").executionId("x2").build());
        List<Delivery> ds = real.read(2, Duration.ofSeconds(1));
        assertEquals(2, ds.size());
        return ds;
    }
}
