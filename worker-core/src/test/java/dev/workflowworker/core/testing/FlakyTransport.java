package dev.workflowworker.core.testing;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.WorkflowEvent;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/** Wraps a real transport and injects failures into polls and closes, to exercise the engine's fault paths. */
public final class FlakyTransport implements EventTransport {

    private final EventTransport delegate;
    /** Called before every poll; return a throwable to make that poll fail, or null. */
    public volatile Supplier<Throwable> pollFault = () -> null;
    /** Thrown by {@link #close()} after closing the real transport, when not null. */
    public volatile RuntimeException closeFault;
    /** Thrown by every consumer's close after closing the real consumer, when not null. */
    public volatile RuntimeException consumerCloseFault;
    /** Called before every acknowledge; return an exception to throw instead of acknowledging, or null. */
    public volatile Supplier<RuntimeException> acknowledgeFault = () -> null;
    /** What {@link #errorClassifiers()} returns. */
    public volatile List<ErrorClassifier> errorClassifiers = List.of();

    public FlakyTransport(EventTransport delegate) {
        this.delegate = delegate;
    }

    @Override
    public String publish(WorkflowEvent event) {
        return delegate.publish(event);
    }

    @Override
    public List<ErrorClassifier> errorClassifiers() {
        return errorClassifiers;
    }

    @Override
    public String stream() {
        return delegate.stream();
    }

    @Override
    public Optional<LockProvider> lockProvider() {
        return delegate.lockProvider();
    }

    @Override
    public boolean locksKeysItself() {
        return delegate.locksKeysItself();
    }

    @Override
    public void close() {
        delegate.close();
        throwIfSet(closeFault);
    }

    private static void throwIfSet(RuntimeException fault) {
        if (fault != null) {
            throw fault;
        }
    }

    @Override
    public Consumer openConsumer(String consumerName) {
        Consumer c = delegate.openConsumer(consumerName);
        return new Consumer() {
            @Override
            public List<Delivery> read(int max, Duration maxWait) throws InterruptedException {
                Throwable t = pollFault.get();
                if (t instanceof RuntimeException re) {
                    throw re;
                }
                if (t instanceof Error err) {
                    throw err;
                }
                return c.read(max, maxWait);
            }

            @Override
            public Set<String> completedAmong(Collection<String> eventIds) {
                return c.completedAmong(eventIds);
            }

            @Override
            public void complete(List<Delivery> deliveries) {
                c.complete(deliveries);
            }

            @Override
            public void acknowledge(Delivery delivery) {
                throwIfSet(acknowledgeFault.get());
                c.acknowledge(delivery);
            }

            @Override
            public void retryAt(Delivery delivery, Instant dueAt, int attempt) {
                c.retryAt(delivery, dueAt, attempt);
            }

            @Override
            public void deadLetter(Delivery delivery, DeadLetter letter) {
                c.deadLetter(delivery, letter);
            }

            @Override
            public void release(Collection<Delivery> deliveries) {
                c.release(deliveries);
            }

            @Override
            public void keepAlive(Collection<Delivery> deliveries) {
                c.keepAlive(deliveries);
            }

            @Override
            public List<Delivery> reclaimStalled(Duration minIdle, int max) {
                return c.reclaimStalled(minIdle, max);
            }

            @Override
            public void close() {
                c.close();
                throwIfSet(consumerCloseFault);
            }
        };
    }
}
