package dev.workflowworker.core.memory;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.TimeSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The entries read and not yet settled, each on the consumer that read or last claimed it, as a
 * consumer group's pending list on Redis. Taking an entry out succeeds once, so of two consumers
 * settling one delivery only one acts.
 */
final class PendingList {

    private static final class Entry {
        final Delivery delivery;
        final String consumer;
        volatile long touchedMillis;

        Entry(Delivery delivery, String consumer, long touchedMillis) {
            this.delivery = delivery;
            this.consumer = consumer;
            this.touchedMillis = touchedMillis;
        }
    }

    private final TimeSource clock;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

    PendingList(TimeSource clock) {
        this.clock = clock;
    }

    void add(List<Delivery> read, String consumer) {
        long now = clock.wallMillis();
        for (Delivery d : read) {
            entries.put(d.id(), new Entry(d, consumer, now));
        }
    }

    /** @return true for the one caller that took the delivery out */
    boolean take(Delivery d) {
        return entries.remove(d.id()) != null;
    }

    int size() {
        return entries.size();
    }

    void keepAlive(Collection<Delivery> deliveries, String consumer) {
        long now = clock.wallMillis();
        for (Delivery d : deliveries) {
            Entry e = entries.get(d.id());
            if (e != null && e.consumer.equals(consumer)) {
                e.touchedMillis = now;
            }
        }
    }

    List<Delivery> reclaimStalled(String consumer, Duration minIdle, int max) {
        long now = clock.wallMillis();
        long idle = minIdle.toMillis();
        List<Delivery> claimed = new ArrayList<>();
        for (Map.Entry<String, Entry> me : entries.entrySet()) {
            if (claimed.size() >= max) {
                break;
            }
            Entry e = me.getValue();
            if (!e.consumer.equals(consumer) && now - e.touchedMillis >= idle
                    && entries.replace(me.getKey(), e, new Entry(e.delivery, consumer, now))) {
                claimed.add(e.delivery);
            }
        }
        return claimed;
    }
}
