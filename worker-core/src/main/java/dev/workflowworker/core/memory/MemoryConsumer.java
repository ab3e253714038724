package dev.workflowworker.core.memory;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * What both kinds of consumer of an {@link InMemoryEventTransport} do alike: read markers, keep
 * their pending deliveries alive and claim stalled ones. How deliveries are read and settled
 * depends on where they wait: {@link QueueConsumer} for the shared queue, {@link OrderedConsumer}
 * for per-key order.
 */
abstract class MemoryConsumer implements EventTransport.Consumer {

    final InMemoryEventTransport transport;
    final String name;
    final PendingList pending;
    final ProcessedMarkers markers;
    final MemoryTimers timers;

    MemoryConsumer(InMemoryEventTransport transport, String name) {
        this.transport = transport;
        this.name = name;
        this.pending = transport.pending;
        this.markers = transport.markers;
        this.timers = transport.timers;
    }

    @Override
    public Set<String> completedAmong(Collection<String> eventIds) {
        return markers.completedAmong(eventIds);
    }

    @Override
    public void keepAlive(Collection<Delivery> deliveries) {
        pending.keepAlive(deliveries, name);
    }

    @Override
    public List<Delivery> reclaimStalled(Duration minIdle, int max) {
        return pending.reclaimStalled(name, minIdle, max);
    }

    @Override
    public void close() {
        // Nothing to free: pending entries stay for claiming, as on Redis.
    }
}
