package dev.workflowworker.core.memory;

import dev.workflowworker.core.TimeSource;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The processed markers of completed events, each kept for one TTL, so that a redelivery of a
 * completed event is recognised as a duplicate (docs/ARCHITECTURE.md, "Promises", 3).
 */
final class ProcessedMarkers {

    private record Expiry(String eventId, long expiresAtMillis) {
    }

    private final TimeSource clock;
    private final long ttlMillis;
    private final ConcurrentHashMap<String, Long> markers = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Expiry> expiries = new ConcurrentLinkedQueue<>();

    ProcessedMarkers(TimeSource clock, long ttlMillis) {
        this.clock = clock;
        this.ttlMillis = ttlMillis;
    }

    void mark(String eventId) {
        long now = clock.wallMillis();
        long expiry = now + ttlMillis;
        markers.put(eventId, expiry);
        // Markers share one TTL, so they expire in insertion order: dropping expired heads of a
        // FIFO keeps memory bounded at O(1) per completion, with no scan of the whole map.
        expiries.add(new Expiry(eventId, expiry));
        Expiry head;
        while ((head = expiries.peek()) != null && head.expiresAtMillis <= now) {
            if (expiries.remove(head)) {
                markers.remove(head.eventId, head.expiresAtMillis);
            }
        }
    }

    Set<String> completedAmong(Collection<String> eventIds) {
        long now = clock.wallMillis();
        Set<String> done = new HashSet<>();
        for (String id : eventIds) {
            Long expiry = markers.get(id);
            if (expiry != null && expiry > now) {
                done.add(id);
            }
        }
        return done;
    }
}
