package dev.workflowworker.core.memory;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * A consumer of the unordered transport: every consumer takes from the one shared queue, and a
 * retry goes back into it as a new entry due later, behind what came meanwhile.
 */
final class QueueConsumer extends MemoryConsumer {

    private final SharedQueue queue;

    QueueConsumer(InMemoryEventTransport transport, String name) {
        super(transport, name);
        this.queue = transport.queue;
    }

    @Override
    public List<Delivery> read(int max, Duration maxWait) throws InterruptedException {
        if (transport.isClosed()) {
            return List.of();
        }
        timers.runDue();
        long seen = queue.signals(); // before the bound: a wake while it is computed is not lost
        List<Delivery> out = queue.poll(max, timers.bound(maxWait), seen);
        if (out.isEmpty()) {
            timers.runDue();
            out = queue.poll(max, Duration.ZERO);
        }
        pending.add(out, name);
        return out;
    }

    @Override
    public void complete(List<Delivery> deliveries) {
        for (Delivery d : deliveries) {
            String eventId = d.eventId();
            if (eventId != null) {
                markers.mark(eventId);
            }
            pending.take(d);
        }
    }

    @Override
    public void acknowledge(Delivery delivery) {
        pending.take(delivery);
    }

    @Override
    public void retryAt(Delivery delivery, Instant dueAt, int attempt) {
        // Only the consumer that takes it out of pending re-queues it, as XACK's count does on Redis.
        if (!pending.take(delivery)) {
            return;
        }
        String id = transport.nextId();
        Delivery next = delivery.isMalformed()
                ? Delivery.malformed(id, delivery.fields(), attempt, delivery.decodeError())
                : Delivery.of(id, delivery.event(), attempt, delivery.fields());
        queue.schedule(next, dueAt.toEpochMilli());
    }

    @Override
    public void deadLetter(Delivery delivery, DeadLetter letter) {
        if (pending.take(delivery)) {
            transport.addDeadLetter(delivery, letter);
        }
    }

    @Override
    public void release(Collection<Delivery> deliveries) {
        for (Delivery d : deliveries) {
            if (pending.take(d)) {
                queue.add(d);
            }
        }
    }
}
